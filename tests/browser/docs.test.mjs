// Browser tests of the API reference page (`/docs`) in a real Chromium: Swagger UI, served by
// kassa itself, draws every tag and operation of kassa's /openapi.json under the page's strict
// Content-Security-Policy, with no CSP violation or console error, and without a single request
// leaving kassa's origin, "Try it out" included.
//
//   node docs.test.mjs [test-name ...]     (default: every test)
//
// Environment: see harness.mjs.

import { eq, expect, runTests, squash, startedDirectly } from "./harness.mjs";

/** Collects CSP violations, console errors and warnings, and uncaught errors of `page`. */
async function watchProblems(page) {
  const problems = [];
  const context = page.context();
  await context.exposeBinding("__kassaReportViolation", ({ frame }, v) => {
    problems.push(`CSP violation on ${frame.url()}: ${JSON.stringify(v)}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__kassaReportViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}`,
      });
    });
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      problems.push(`console ${msg.type()} on ${page.url()}: ${msg.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error}`));
  return problems;
}

/** Every URL the pages of `page`'s context request, in order. */
function recordRequests(page) {
  const urls = [];
  page.context().on("request", (request) => urls.push(request.url()));
  return urls;
}

/** The operations of an OpenAPI document: `{tag, method, path}` each. */
function operationsOf(document) {
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const operations = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of methods) {
      if (item[method]) operations.push({ tag: item[method].tags?.[0], method, path });
    }
  }
  return operations;
}

/** The operation block of `method path` on the page. */
function operation(page, method, path) {
  return page
    .locator(`.opblock.opblock-${method}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
}

/**
 * Scrolls the page from top to bottom and returns every tag and operation (`method path`) drawn
 * on the way: Swagger UI draws only the part of its (virtual) list that is on screen.
 */
async function drawnWhileScrolling(page) {
  const tags = new Set();
  const operations = new Set();
  for (let step = 0; step < 1000; step++) {
    const atBottom = await page.evaluate((y) => {
      window.scrollTo(0, y);
      const root = document.documentElement;
      return window.scrollY + window.innerHeight >= root.scrollHeight - 1;
    }, step * 500);
    // Until the list has drawn the part of it that is on screen.
    await page.waitForFunction(() => {
      const list = document.querySelector(".operations-virtual__list");
      const box = list.getBoundingClientRect();
      const top = Math.max(box.top + parseFloat(getComputedStyle(list).paddingTop), 0);
      const bottom = Math.min(box.bottom, window.innerHeight);
      if (bottom <= top) return true;
      const drawn = [...list.children].map((item) => item.getBoundingClientRect());
      return drawn.some((b) => b.top <= top + 1) && drawn.some((b) => b.bottom >= bottom - 1);
    });
    const seen = await page.evaluate(() => ({
      tags: [...document.querySelectorAll(".opblock-tag[data-tag]")].map((el) =>
        el.getAttribute("data-tag"),
      ),
      operations: [...document.querySelectorAll(".opblock")].map(
        (el) =>
          `${el.querySelector(".opblock-summary-method").textContent.toLowerCase()} ` +
          el.querySelector(".opblock-summary-path").getAttribute("data-path"),
      ),
    }));
    seen.tags.forEach((tag) => tags.add(tag));
    seen.operations.forEach((op) => operations.add(op));
    if (atBottom) break;
  }
  return { tags: [...tags].sort(), operations: [...operations].sort() };
}

export const TESTS = [
  [
    "docs-reference",
    async (t) => {
      const document = await t.kassa.call("GET", "/openapi.json", {});
      const operations = operationsOf(document);
      expect(operations.length > 100, `${operations.length} operations in /openapi.json`);
      const tags = [...new Set(operations.map((o) => o.tag))];

      const page = await t.newPage({ viewport: { width: 1280, height: 900 } });
      const requests = recordRequests(page);
      const problems = await watchProblems(page);
      const response = await page.goto(`${t.kassa.base}/docs`);
      eq(response.status(), 200, "GET /docs status");
      const csp = response.headers()["content-security-policy"];
      expect(
        csp.includes("script-src 'self';") && csp.includes("style-src 'self';"),
        `strict CSP: ${csp}`,
      );
      expect(!csp.includes("unsafe"), `nothing unsafe allowed: ${csp}`);
      eq(await page.title(), "API reference · kassa", "title");

      // Drawn: the document's title, the operations on screen, and, scrolling down, every tag
      // and every operation.
      const checkout = operation(page, "post", "/v1/checkout/sessions");
      await operation(page, "get", "/api/v3/account").waitFor();
      const title = squash(await page.locator(".info .title").first().textContent());
      expect(title.startsWith("kassa"), `the document's title is shown: ${title}`);
      expect(
        await page.locator('.opblock-tag[data-tag="Account"]').isVisible(),
        "tag Account visible",
      );
      await t.screenshot(page, t.name, { fullPage: false });
      const drawn = await drawnWhileScrolling(page);
      eq(drawn.tags, [...tags].sort(), "tags drawn");
      eq(
        drawn.operations,
        operations.map((o) => `${o.method} ${o.path}`).sort(),
        "operations drawn",
      );

      // The filter finds a tag's operations.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.locator("input.operation-filter-input").fill("Stripe");
      await checkout.waitFor();
      expect(await checkout.isVisible(), "POST /v1/checkout/sessions visible");
      await t.screenshot(page, `${t.name}-stripe`, { fullPage: false });
      await page.locator("input.operation-filter-input").fill("Operations");

      // "Try it out" sends to kassa itself.
      const health = operation(page, "get", "/healthz");
      await health.locator(".opblock-summary").first().click();
      await health.locator("button.try-out__btn").click();
      const answered = page.waitForResponse((r) => r.url() === `${t.kassa.base}/healthz`);
      await health.locator("button.execute").click();
      eq((await answered).status(), 200, "GET /healthz from Try it out");
      const status = health.locator(".live-responses-table tr.response .response-col_status").first();
      await status.waitFor();
      eq(squash(await status.textContent()), "200", "status shown");
      await health.scrollIntoViewIfNeeded();
      await t.screenshot(page, `${t.name}-try-it-out`, { fullPage: false });

      const foreign = requests.filter(
        (url) => !url.startsWith(`${t.kassa.base}/`) && !url.startsWith("data:"),
      );
      eq(foreign, [], "requests that left kassa");
      expect(
        requests.includes(`${t.kassa.base}/openapi.json`),
        `the page read /openapi.json: ${requests.join(", ")}`,
      );
      await page.waitForTimeout(300);
      expect(problems.length === 0, `problems on the page:\n  ${problems.join("\n  ")}`);
    },
  ],
];

if (startedDirectly(import.meta.url)) await runTests(TESTS);
