#!/usr/bin/env node
// Uses the Agents Playground's own web page as a trustee would, in headless Chromium (Debian's,
// driven by playwright-core), and takes a picture of the chat.
//
//   node playground.js PLAYGROUND_URL OUT.png
//
// With a new trustee in the personal chat (the bot's welcome card showing), it presses Start on
// the trust governance framework, types evidence, presses Amber Green, and waits for the card to
// move on to element 2. After each step it prints a line of JSON: the step, how many cards the
// chat shows, and the text of the newest one, so a test can check what the trustee saw.
// Chromium (chromium.js) may fetch nothing but the Playground's page on this machine.
"use strict";

const { withBrowser } = require("./chromium");

const EVIDENCE = "Vision refreshed at the July away day; not yet shared with staff.";
const WAIT_MS = 30000;

async function report(page, step) {
    const cards = page.locator(".ac-adaptiveCard");
    const count = await cards.count();
    const text = count ? await cards.last().innerText() : "";
    const evidence = count ? await cards.last().locator("textarea").inputValue().catch(() => null) : null;
    process.stdout.write(JSON.stringify({ step, cards: count, text, evidence }) + "\n");
}

async function picture(page, file) {
    // The chat scrolls inside the page, so the card is clipped from a page tall enough to hold it.
    const box = await page.locator(".ac-adaptiveCard").last().boundingBox();
    const top = Math.max(0, box.y - 60);
    await page.screenshot({ path: file, clip: { x: box.x - 70, y: top, width: box.width + 90, height: box.height + 90 } });
}

async function main() {
    const [url, out] = process.argv.slice(2);
    if (!url || !out) {
        process.stderr.write("usage: node playground.js PLAYGROUND_URL OUT.png\n");
        process.exit(2);
    }
    // The Playground's page is on this machine; anything it asks of the internet is refused.
    await withBrowser({ viewport: { width: 1280, height: 2400 } }, async (context) => {
        const page = context.pages()[0] || (await context.newPage());
        page.setDefaultTimeout(WAIT_MS);
        await page.goto(url, { waitUntil: "load" });
        await page.getByText("Board self-assessment").first().waitFor();
        await report(page, "welcome");

        await page.getByRole("button", { name: "Start" }).first().click();
        await page.getByText("Element 1 of 16").waitFor();
        await report(page, "started");

        const card = page.locator(".ac-adaptiveCard").last();
        await card.locator("textarea").fill(EVIDENCE);
        await card.getByRole("button", { name: "Amber Green", exact: true }).click();
        await page.getByText("Element 2 of 16").waitFor();
        await report(page, "rated");
        await picture(page, out);
    });
}

main().catch((error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
});
