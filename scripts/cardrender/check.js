#!/usr/bin/env node
// Checks cards with Microsoft's Adaptive Cards renderer (npm `adaptivecards`), in Node, no browser:
// each card is parsed with a SerializationContext targeting schema 1.5 under the Teams-like host
// config beside this file, its properties are validated, and it is rendered to an HTML element
// in a jsdom document.
//
//   node check.js CARDS.json             CARDS.json: {"name": card, ...}
//
// Each card is checked as laid out at 760 px and at 360 px (responsive.js: Teams' targetWidth and
// layouts, which this renderer predates), and what either finds is reported.
//
// Prints one JSON object to stdout: for each name, {events, validation, rendered, error, buttons}:
// `events` are the parse events (errors and warnings alike), `validation` the events of
// validateProperties(), `rendered` whether render() gave an element, `error` what it threw, and
// `buttons` the titles of the push buttons on the rendered card (overflow "..." included).
//
// The packages come from CARDRENDER_MODULES, or the repo's .cardrender/node_modules, where
// scripts/card-pictures installs the versions pinned in package.json.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const { forWidth } = require("./responsive");

const here = __dirname;
const modules =
    process.env.CARDRENDER_MODULES || path.join(here, "..", "..", ".cardrender", "node_modules");
const load = createRequire(path.join(modules, "_"));

function main() {
    const [file] = process.argv.slice(2);
    if (!file) {
        process.stderr.write("usage: node check.js CARDS.json\n");
        process.exit(2);
    }
    const { JSDOM } = load("jsdom");
    // An origin of its own: on an opaque one jsdom's window throws on reading localStorage.
    const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>", {
        pretendToBeVisual: true,
        url: "http://localhost/",
    });
    // The renderer uses the browser's globals when it renders (parsing needs none): the
    // window's own names (HTMLButtonElement...) that Node lacks, and markdown-it for TextBlocks,
    // whose markdown Teams renders too.
    for (const name of Object.getOwnPropertyNames(dom.window)) {
        if (!(name in globalThis)) {
            Object.defineProperty(globalThis, name, {
                value: dom.window[name],
                configurable: true,
                writable: true,
            });
        }
    }
    globalThis.window = dom.window;
    dom.window.markdownit = load("markdown-it");
    // The package's UMD bundle: its lib/ is ES modules that Node cannot load as they are.
    const AC = load("adaptivecards/dist/adaptivecards.js");
    const hostConfig = new AC.HostConfig(
        JSON.parse(fs.readFileSync(path.join(here, "hostconfig.json"), "utf8"))
    );
    const cards = JSON.parse(fs.readFileSync(file, "utf8"));
    const results = {};
    for (const [name, json] of Object.entries(cards)) {
        const wide = check(AC, hostConfig, dom.window.document, forWidth(json, 760));
        const narrow = check(AC, hostConfig, dom.window.document, forWidth(json, 360));
        results[name] = {
            events: [...wide.events, ...narrow.events],
            validation: [...wide.validation, ...narrow.validation],
            rendered: wide.rendered && narrow.rendered,
            error: wide.error || narrow.error,
            buttons: wide.buttons,
        };
    }
    process.stdout.write(JSON.stringify({ version: version(), results }));
}

function describe(AC, event) {
    return {
        phase: AC.ValidationPhase[event.phase],
        event: AC.ValidationEvent[event.event],
        message: event.message,
        source: event.source && event.source.getJsonTypeName ? event.source.getJsonTypeName() : null,
    };
}

function check(AC, hostConfig, document, json) {
    const result = { events: [], validation: [], rendered: false, error: null, buttons: [] };
    try {
        const card = new AC.AdaptiveCard();
        card.hostConfig = hostConfig;
        const context = new AC.SerializationContext(AC.Versions.v1_5);
        card.parse(json, context);
        for (let i = 0; i < context.eventCount; i++) {
            result.events.push(describe(AC, context.getEventAt(i)));
        }
        result.validation = card.validateProperties().validationEvents.map((e) => describe(AC, e));
        const element = card.render();
        if (element) {
            document.body.appendChild(element);
            result.rendered = true;
            result.buttons = Array.from(element.querySelectorAll("button.ac-pushButton")).map(
                (b) => b.getAttribute("aria-label") || b.textContent
            );
            element.remove();
        }
    } catch (error) {
        result.error = String((error && error.stack) || error);
    }
    return result;
}

function version() {
    return JSON.parse(fs.readFileSync(path.join(modules, "adaptivecards", "package.json"), "utf8"))
        .version;
}

main();
