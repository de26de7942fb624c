// Teams' responsive card features, which Microsoft's JavaScript renderer (adaptivecards 3.0.5)
// predates: `targetWidth` on an element and `layouts` (Layout.Stack, Layout.AreaGrid) on a
// container. `forWidth(card, width)` gives the card as a host that has them would lay it out at
// that width, in the 1.5 elements the renderer knows: elements meant for other widths dropped, an
// AreaGrid of one row turned into a ColumnSet with a column per area (its items in their area),
// the default stacked layout left as it is. Without them a host shows every element and stacks a
// container's items, which the cards are built to read well in too.
//
// The widths are an assumption (Teams does not publish them): up to 320 px is "veryNarrow", up to
// 480 px "narrow" (a phone), up to 800 px "standard" (a chat on a laptop), wider "wide".
"use strict";

const WIDTHS = ["veryNarrow", "narrow", "standard", "wide"];

function widthClass(width) {
    if (width <= 320) return 0;
    if (width <= 480) return 1;
    if (width <= 800) return 2;
    return 3;
}

function fits(target, width) {
    if (!target) return true;
    const [how, name] = target.includes(":") ? target.split(":") : ["", target];
    const wanted = WIDTHS.findIndex((w) => w.toLowerCase() === name.toLowerCase());
    if (wanted < 0) throw new Error(`unknown targetWidth ${JSON.stringify(target)}`);
    const actual = widthClass(width);
    const mode = how.toLowerCase();
    if (mode === "atleast") return actual >= wanted;
    if (mode === "atmost") return actual <= wanted;
    if (mode === "") return actual === wanted;
    throw new Error(`unknown targetWidth ${JSON.stringify(target)}`);
}

function forWidth(card, width) {
    return visit(JSON.parse(JSON.stringify(card)), width);
}

function visit(node, width) {
    if (Array.isArray(node)) {
        return node.filter((n) => !(n && typeof n === "object" && !fits(n.targetWidth, width)))
            .map((n) => visit(n, width));
    }
    if (!node || typeof node !== "object") return node;
    delete node.targetWidth;
    for (const [key, value] of Object.entries(node)) {
        if (key !== "layouts") node[key] = visit(value, width);
    }
    if (node.layouts) {
        const layout = node.layouts.find((l) => fits(l.targetWidth, width));
        delete node.layouts;
        if (layout && layout.type === "Layout.AreaGrid") {
            node.items = grid(layout, node.items || []);
        } else if (layout && layout.type !== "Layout.Stack") {
            throw new Error(`layout ${layout.type} is not emulated`);
        }
    }
    for (const item of node.items || []) {
        delete item["grid.area"];
    }
    return node;
}

// A grid as ColumnSets, one a row: the grid's column widths are percentages, the last column
// takes what they leave, and an area spanning columns is one column as wide as they are.
function grid(layout, items) {
    const given = (layout.columns || []).map(Number);
    const count = Math.max(...layout.areas.map((a) => (a.column || 1) + (a.columnSpan || 1) - 1));
    const widths = Array.from({ length: count }, (_, i) =>
        i < given.length ? given[i] : Math.max(1, (100 - given.reduce((s, w) => s + w, 0)) / (count - given.length))
    );
    const rows = new Map();
    for (const area of layout.areas) {
        if ((area.rowSpan || 1) !== 1) throw new Error("an area spanning rows is not emulated");
        const row = area.row || 1;
        if (!rows.has(row)) rows.set(row, []);
        rows.get(row).push(area);
    }
    const spacing = layout.rowSpacing || "Default";
    return [...rows.keys()].sort((a, b) => a - b).map((row, r) => {
        const columns = [];
        // Every grid column is drawn, empty where no area of the row covers it, so the rows'
        // columns line up as the grid's do.
        for (let column = 1; column <= count; ) {
            const area = rows.get(row).find((a) => (a.column || 1) === column);
            const span = area ? area.columnSpan || 1 : 1;
            columns.push({
                type: "Column",
                width: widths.slice(column - 1, column - 1 + span).reduce((s, w) => s + w, 0),
                spacing: columns.length ? layout.columnSpacing || "Default" : "None",
                items: area
                    ? items.filter((item) => item["grid.area"] === area.name).map((item) => {
                          const copy = { ...item };
                          delete copy["grid.area"];
                          return copy;
                      })
                    : [],
            });
            column += span;
        }
        return { type: "ColumnSet", spacing: r ? spacing : "None", columns };
    });
}

module.exports = { forWidth, fits, widthClass };
