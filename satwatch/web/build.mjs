// Bundles the page: src/main.js (d3-geo, topojson-client and the Natural Earth
// map from world-atlas, all from npm) into static/dist/, with index.html and
// style.css.  No CDN: everything the page loads is served by satwatch itself.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const out = "static/dist";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outfile: `${out}/app.js`,
  loader: { ".json": "json" },
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync("src/index.html", `${out}/index.html`);
copyFileSync("src/style.css", `${out}/style.css`);
