// Bundles the widget (loader and chat frame) and the agents' console into app/static/widget/.
// The output is committed so that `make run` needs no Node; tests/test_chat_widget_build.py
// rebuilds it and fails if it differs from the sources.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const out = process.argv[2] || "../app/static/widget";
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: "none", target: "es2020", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/loader.js"], outfile: `${out}/loader.js`, format: "iife" });
await build({ ...common, entryPoints: ["src/frame.js"], outfile: `${out}/frame.js`, format: "iife" });
await build({ ...common, entryPoints: ["src/console.js"], outfile: `${out}/console.js`, format: "iife" });
copyFileSync("src/frame.css", `${out}/frame.css`);
