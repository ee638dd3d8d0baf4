// Runs every browser test on one kassa server, one shop and one Chromium: the hosted checkout
// page's (checkout.test.mjs), the dashboard's (dashboard.test.mjs), the customer portal's
// (portal.test.mjs), then the API reference's (docs.test.mjs). Prints one line per test and
// the closing `browser: N passed, N failed` line. run.sh starts it.
//
//   node run.mjs [test-name ...]               (default: every test)

import { TESTS as CHECKOUT } from "./checkout.test.mjs";
import { TESTS as DASHBOARD } from "./dashboard.test.mjs";
import { TESTS as DOCS } from "./docs.test.mjs";
import { TESTS as PORTAL } from "./portal.test.mjs";
import { runTests } from "./harness.mjs";

await runTests([...CHECKOUT, ...DASHBOARD, ...PORTAL, ...DOCS]);
