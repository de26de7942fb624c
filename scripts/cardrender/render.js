#!/usr/bin/env node
// Draws cards to PNG with Microsoft's Adaptive Cards renderer (npm `adaptivecards`) in headless
// Chromium (Debian's, driven by playwright-core), under the Teams-like host config beside this
// file, on the Teams-like page render.html.
//
//   node render.js CARDS_DIR OUT_DIR [WIDTH[:SUFFIX] ...]
//
// Every CARDS_DIR/<name>.json is drawn once per width (default 760), to OUT_DIR/<name><SUFFIX>.png;
// where CARDS_DIR/<name>.press names a show-card button, it is pressed first.
// For each picture it prints a line of JSON: its size, and what looks cut off in it (text or
// buttons whose content is wider than their box, elements wider than the card).
//
// Chromium gets a fresh profile and may fetch nothing but the page itself: every request that
// is not to localhost, a data: or a file: URL is refused.
"use strict";

const fs = require("fs");
const path = require("path");
const { modules, withBrowser } = require("./chromium");
const { forWidth } = require("./responsive");

const here = __dirname;

async function main() {
    const [cardsDir, outDir, ...widthArgs] = process.argv.slice(2);
    if (!cardsDir || !outDir) {
        process.stderr.write("usage: node render.js CARDS_DIR OUT_DIR [WIDTH[:SUFFIX] ...]\n");
        process.exit(2);
    }
    const widths = (widthArgs.length ? widthArgs : ["760"]).map((arg) => {
        const [width, suffix = ""] = arg.split(":");
        return { width: Number(width), suffix };
    });
    const names = fs
        .readdirSync(cardsDir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5))
        .sort();
    fs.mkdirSync(outDir, { recursive: true });

    await withBrowser({ viewport: { width: 1200, height: 900 }, offline: true }, async (context) => {
        const page = context.pages()[0] || (await context.newPage());
        page.on("pageerror", (error) => process.stderr.write(`page error: ${error}\n`));
        await page.setContent(fs.readFileSync(path.join(here, "render.html"), "utf8"));
        await page.addStyleTag({ path: path.join(modules, "adaptivecards/dist/adaptivecards.css") });
        // Its stylesheet went to the head, before render.html's own Teams-like styles in the body.
        await page.addScriptTag({ path: path.join(modules, "markdown-it/dist/markdown-it.min.js") });
        await page.addScriptTag({ path: path.join(modules, "adaptivecards/dist/adaptivecards.js") });
        const hostConfig = JSON.parse(fs.readFileSync(path.join(here, "hostconfig.json"), "utf8"));
        for (const name of names) {
            const card = JSON.parse(fs.readFileSync(path.join(cardsDir, `${name}.json`), "utf8"));
            const pressFile = path.join(cardsDir, `${name}.press`);
            const press = fs.existsSync(pressFile) ? fs.readFileSync(pressFile, "utf8").trim() : null;
            for (const { width, suffix } of widths) {
                const laid = forWidth(card, width); // as Teams lays it out at this width
                const found = await page.evaluate(draw, { card: laid, hostConfig, width, press });
                const file = path.join(outDir, `${name}${suffix}.png`);
                await page.locator("#frame").screenshot({ path: file });
                process.stdout.write(JSON.stringify({ picture: file, width, ...found }) + "\n");
            }
        }
    });
}

// Runs in the page: draws one card into the bubble, and reports what looks cut off.
async function draw({ card, hostConfig, width, press }) {
    const AC = window.AdaptiveCards;
    const bubble = document.getElementById("bubble");
    bubble.style.setProperty("--card-width", `${width}px`);
    bubble.style.width = `${width}px`;
    bubble.replaceChildren();
    const adaptive = new AC.AdaptiveCard();
    adaptive.hostConfig = new AC.HostConfig(hostConfig);
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    adaptive.parse(card, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) {
        events.push(context.getEventAt(i).message);
    }
    const element = adaptive.render();
    bubble.appendChild(element);
    if (press) {
        const button = Array.from(element.querySelectorAll("button.ac-pushButton")).find(
            (b) => b.textContent.trim() === press
        );
        if (!button) {
            throw new Error(`no button titled ${JSON.stringify(press)} to press`);
        }
        button.click();
    }
    await document.fonts.ready;
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const edge = bubble.getBoundingClientRect().right;
    const clipped = [];
    for (const node of element.querySelectorAll("*")) {
        const style = getComputedStyle(node);
        if (node.offsetParent === null || node.children.length > 0) {
            continue; // hidden, or not a leaf: its leaves are checked (a button's title too)
        }
        if (["INPUT", "TEXTAREA", "SELECT", "OPTION"].includes(node.tagName)) {
            continue; // a box that scrolls: what is typed in it is never cut off
        }
        const text = (node.textContent || "").trim().replace(/\s+/g, " ");
        const where = { tag: node.tagName, text: text.slice(0, 80) };
        if (overflows(node)) {
            const cut = style.overflowX !== "visible" || style.textOverflow === "ellipsis";
            clipped.push({ what: cut ? "cut short" : "spills out of its box", ...where });
        } else if (node.getBoundingClientRect().right > edge + 1) {
            clipped.push({ what: "past the card's edge", ...where });
        } else if (spills(node)) {
            clipped.push({ what: `spills out of its ${spills(node)}`, ...where });
        }
        if (style.webkitLineClamp !== "none" && node.scrollHeight > node.clientHeight + 1) {
            clipped.push({ what: "lines cut", ...where });
        }
    }
    // Whether the node's content is wider than its content box, to the sub-pixel: Chromium
    // draws an ellipsis for a fraction of a pixel that scrollWidth rounds away.
    function overflows(node) {
        const range = document.createRange();
        range.selectNodeContents(node);
        const style = getComputedStyle(node);
        const inner =
            node.getBoundingClientRect().width -
            ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"].reduce(
                (sum, side) => sum + (parseFloat(style[side]) || 0),
                0
            );
        return Math.max(range.getBoundingClientRect().width, node.scrollWidth) > inner + 0.5;
    }
    // The class of the nearest box (a table cell, a column...) the text runs past, if any.
    function spills(node) {
        const right = node.getBoundingClientRect().right;
        for (let box = node.parentElement; box && box !== bubble; box = box.parentElement) {
            const edges = box.getBoundingClientRect();
            const padding = parseFloat(getComputedStyle(box).paddingRight) || 0;
            if (right > edges.right - padding + 1) {
                return box.className || box.tagName;
            }
        }
        return null;
    }
    const buttons = Array.from(element.querySelectorAll("button.ac-pushButton")).map(
        (b) => b.textContent
    );
    const box = bubble.getBoundingClientRect();
    const frame = document.getElementById("frame").getBoundingClientRect();
    return { events, height: Math.round(box.height), buttons, clipped, codes: codes(), broken: broken() };

    // Where the picture shows a rating's letters: the text's box and the filled box around it
    // (in the picture's pixels), how many lines the letters take, and how they are drawn.
    function codes() {
        const found = [];
        for (const node of element.querySelectorAll("*")) {
            const text = (node.textContent || "").trim();
            if (node.children.length > 0 || !/^(R|AR|AG|G)$/.test(text)) continue;
            let fill = node.parentElement;
            while (fill && fill !== bubble && getComputedStyle(fill).backgroundColor === "rgba(0, 0, 0, 0)") {
                fill = fill.parentElement;
            }
            const style = getComputedStyle(node);
            const range = document.createRange();
            range.selectNodeContents(node);
            const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
            const padded = getComputedStyle(fill);
            const inner =
                fill.clientWidth - parseFloat(padded.paddingLeft) - parseFloat(padded.paddingRight);
            found.push({
                text,
                lines,
                room: inner - range.getBoundingClientRect().width, // spare width beside the letters
                weight: Number(style.fontWeight),
                box: local(range.getBoundingClientRect()),
                fill: local(fill.getBoundingClientRect()),
            });
        }
        return found;
    }
    function local(rect) {
        return { x: rect.left - frame.left, y: rect.top - frame.top, w: rect.width, h: rect.height };
    }
    // Words drawn across two lines ("progre / ss"): a column too narrow for its words.
    function broken() {
        const found = [];
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.offsetParent === null) continue;
            // A word may break after its own hyphen ("Self-/review"), never inside a part.
            for (const match of node.textContent.matchAll(/[^\s-]+-?/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
                if (tops.size > 1) found.push(match[0]);
            }
        }
        return found;
    }
}

main().catch((error) => {
    process.stderr.write(`${(error && error.stack) || error}\n`);
    process.exit(1);
});
