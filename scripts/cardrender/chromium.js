// Headless Chromium for the scripts beside this file: Debian's browser (never a downloaded one),
// driven by the pinned playwright-core in .cardrender/, with a fresh profile, fetching nothing
// but pages on this machine.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { createRequire } = require("module");

const modules =
    process.env.CARDRENDER_MODULES || path.join(__dirname, "..", "..", ".cardrender", "node_modules");
const load = createRequire(path.join(modules, "_"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
];

function allowed(url) {
    const { protocol, hostname } = new URL(url);
    if (["data:", "file:", "about:", "blob:"].includes(protocol)) {
        return true;
    }
    return ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
}

// Runs `use(context)` in a browser context on a fresh profile, removed afterwards.
async function withBrowser(options, use) {
    const { chromium } = load("playwright-core");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "cardrender-profile-"));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        deviceScaleFactor: 1,
        ...options,
    });
    try {
        await context.route("**/*", (route) =>
            allowed(route.request().url()) ? route.continue() : route.abort("blockedbyclient")
        );
        return await use(context);
    } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
}

module.exports = { modules, withBrowser };
