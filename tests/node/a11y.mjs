// Accessibility check with axe-core in headless Chromium (Debian's /usr/bin/chromium).
//
//   node tests/node/a11y.mjs FILE.html ...
//
// Each page is checked in light and in dark mode (prefers-color-scheme emulated), so colour
// contrast is checked for both. Prints one JSON object: for each file and mode, the
// violations as {id, impact, help, nodes: [target, ...]}. Nothing leaves the machine.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"],
});
const result = {};
try {
  for (const file of process.argv.slice(2)) {
    result[file] = {};
    for (const colorScheme of ["light", "dark"]) {
      const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.route("**/*", (route) =>
        route.request().url().startsWith("file:") ? route.continue() : route.abort());
      await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load" });
      await page.addScriptTag({ content: axeSource });
      const violations = await page.evaluate(async () => {
        const report = await window.axe.run(document, { resultTypes: ["violations"] });
        return report.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.map((n) => n.target.join(" ")),
        }));
      });
      result[file][colorScheme] = violations;
      await context.close();
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
