import { defineConfig } from "vitest/config";
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
  // `npm run dev` serves the app from source, proxying the gateway at CONSTRUCT_GATEWAY_URL (the Host
  // header is kept, so the gateway's same-origin checks see the dev server's origin as its own).
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: Object.fromEntries(
      ["/api", "/ws", "^/pair(/|$)", "/admin", "/health"].map((path) => [
        path,
        { target: process.env.CONSTRUCT_GATEWAY_URL ?? "http://127.0.0.1:42617", ws: true, changeOrigin: false },
      ]),
    ),
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
