// Render pages in headless Chromium (Debian's /usr/bin/chromium) to PNG, at desktop and
// mobile widths, in light and dark mode.
//
//   node tests/node/screenshots.mjs OUT_DIR NAME=FILE.html [NAME=FILE.html ...]
//
// Writes OUT_DIR/NAME.{desktop,mobile}.{light,dark}.png and prints one JSON line per shot.
// Nothing leaves the machine: every request that is not a file:// URL is aborted (remote
// images then show their alt text, as in a mail client that blocks images).
import { chromium } from "playwright-core";
import path from "node:path";
import { pathToFileURL } from "node:url";
import fs from "node:fs";

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, mobile: { width: 375, height: 740 } };
const SCHEMES = ["light", "dark"];

const [outDir, ...pages] = process.argv.slice(2);
if (!outDir || pages.length === 0) {
  console.error("usage: screenshots.mjs OUT_DIR NAME=FILE.html ...");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"],
});
try {
  for (const spec of pages) {
    const [name, file] = spec.split(/=(.*)/s);
    const url = pathToFileURL(path.resolve(file)).href;
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      for (const colorScheme of SCHEMES) {
        const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
        const page = await context.newPage();
        await page.route("**/*", (route) =>
          route.request().url().startsWith("file:") ? route.continue() : route.abort());
        await page.goto(url, { waitUntil: "load" });
        const out = path.join(outDir, `${name}.${device}.${colorScheme}.png`);
        await page.screenshot({ path: out, fullPage: true });
        const size = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
        console.log(JSON.stringify({ name, device, colorScheme, out, width: size[0], height: size[1], viewport: viewport.width }));
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
}
