import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Assets are served by the gateway under /_app/ with immutable caching; file names carry content hashes.
export default defineConfig({
  base: "/_app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    // No inline scripts or styles: the gateway's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
