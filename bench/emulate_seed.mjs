// Prepares the Stripe emulator for the benchmark: one product and price, then N open checkout
// sessions created with the same request the create scenario sends. Writes the price id to
// <out>/emulate_price and the session ids to <out>/emulate_ids, one a line.
//
//   node emulate_seed.mjs http://127.0.0.1:PORT N OUTDIR
//
// The emulator allows 5 000 requests an hour per bearer token and accepts any non-empty
// token, so every request here gets a token of its own.
import { writeFileSync } from "node:fs";

const [base, count, out] = process.argv.slice(2);
const total = Number(count);
let n = 0;
const token = () => `sk_test_seed${Date.now()}n${++n}`;

async function post(path, params) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token()}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const product = await post("/v1/products", { name: "Pro" });
const price = await post("/v1/prices", {
  product: product.id,
  currency: "usd",
  unit_amount: "2999",
});
writeFileSync(`${out}/emulate_price`, price.id + "\n");
const session = {
  "line_items[0][price]": price.id,
  "line_items[0][quantity]": "1",
  mode: "payment",
  success_url: "https://shop.example/thanks",
};
const ids = [];
const workers = 16;
let next = 0;
await Promise.all(
  Array.from({ length: workers }, async () => {
    while (next < total) {
      next++;
      ids.push((await post("/v1/checkout/sessions", session)).id);
    }
  }),
);
// One retrieve to check that an id reads back.
const check = await fetch(`${base}/v1/checkout/sessions/${ids[0]}`, {
  headers: { Authorization: `Bearer ${token()}` },
});
if (check.status !== 200) throw new Error(`retrieve ${ids[0]}: ${check.status}`);
writeFileSync(`${out}/emulate_ids`, ids.join("\n") + "\n");
console.log(`emulate: price ${price.id}, ${ids.length} sessions`);
