// The size budget of the dashboard's first load: the JavaScript that index.html loads (its entry script and
// the modules it preloads, not the views loaded later) must stay under 250 KB gzipped. Prints the sizes;
// exits 1 over budget. Usage: node scripts/budget.mjs [distDir]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const BUDGET_JS = 250 * 1000;
const dist = path.resolve(process.argv[2] ?? "dist");
const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
const urls = [...html.matchAll(/(?:src|href)="\/_app\/(assets\/[^"]+)"/g)].map((match) => match[1]);
let js = 0;
let css = 0;
for (const url of urls) {
  const bytes = zlib.gzipSync(fs.readFileSync(path.join(dist, url)), { level: 9 }).length;
  if (url.endsWith(".js")) {
    js += bytes;
  } else if (url.endsWith(".css")) {
    css += bytes;
  }
  console.log(`${url}: ${(bytes / 1000).toFixed(1)} KB gzipped`);
}
console.log(`initial JavaScript: ${(js / 1000).toFixed(1)} KB gzipped (budget ${BUDGET_JS / 1000} KB); CSS ${(css / 1000).toFixed(1)} KB`);
if (js === 0) {
  console.error("budget: index.html loads no script; is this the built dist?");
  process.exit(1);
}
if (js > BUDGET_JS) {
  console.error("budget: the initial JavaScript is over budget; load the heavy views lazily");
  process.exit(1);
}
