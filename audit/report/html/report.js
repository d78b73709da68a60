// The HTML report's script (report.HTML). The report reads without it; where scripts run it sorts
// the findings table by the column whose header is clicked, and filters it by text and severity.
// It only moves and hides rows, a chunk at a time with a pause for the browser between chunks, so
// a table of 100,000 findings stays usable. The view lives in the URL's fragment
// (#sort=path&order=desc&q=uploads&sev=critical,high): a link or a bookmark opens the same view.
(function () {
	"use strict";
	var table = document.getElementById("findings");
	var form = document.getElementById("filters");
	if (!table || !form) {
		return;
	}
	var body = table.tBodies[0];
	var rows = Array.prototype.slice.call(body.rows);
	var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
	var columns = heads.map(function (th) { return th.getAttribute("data-key"); });
	var text = document.getElementById("filter-text");
	var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=sev]"));
	var shown = document.getElementById("shown");
	// Severity sorts most severe first.
	var rank = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
	var chunk = 2000;
	var keys = {}; // column → each row's sort key, rows in the order written
	var haystack = null; // each row's cells, lower case, one per line
	var view = { sort: "", desc: false, q: "", sev: null };
	var applied = ""; // the order the rows are in: "" as written, a column and order, null unknown
	var hidden = 0; // rows hidden by the filter, -1 while unknown
	var job = 0;
	// While an update works on the rows, out of the page, a row in their place says so.
	var placeholder = document.createElement("tbody");
	var busy = placeholder.insertRow().insertCell();
	busy.colSpan = columns.length;
	// Each row's place in the order written, for the haystack of a row found where it is now.
	var index = new Map();
	rows.forEach(function (row, i) { index.set(row, i); });

	function keysOf(column) {
		if (!keys[column]) {
			var c = columns.indexOf(column), k = new Array(rows.length);
			for (var i = 0; i < rows.length; i++) {
				k[i] = column === "severity" ? rank[rows[i].className] : rows[i].cells[c].textContent;
			}
			keys[column] = k;
		}
		return keys[column];
	}

	function texts() {
		if (!haystack) {
			haystack = new Array(rows.length);
			for (var i = 0; i < rows.length; i++) {
				var cells = rows[i].cells, t = [];
				for (var j = 0; j < cells.length; j++) {
					t.push(cells[j].textContent);
				}
				haystack[i] = t.join("\n").toLowerCase();
			}
		}
		return haystack;
	}

	function sortedOrder() {
		var order = new Array(rows.length);
		for (var i = 0; i < rows.length; i++) {
			order[i] = i;
		}
		if (view.sort) {
			var k = keysOf(view.sort), dir = view.desc ? -1 : 1;
			order.sort(function (a, b) {
				var x = k[a], y = k[b];
				return x < y ? -dir : x > y ? dir : a - b;
			});
		}
		return order;
	}

	// update brings the table to the view. It takes the rows out of the page while it moves and
	// hides them, a chunk at a time with a pause between chunks, and puts them back at the end:
	// the browser lays the table out once, not once per chunk. A newer update stops it.
	function update() {
		var mine = ++job;
		var want = view.sort ? view.sort + (view.desc ? " desc" : " asc") : "";
		var q = view.q.toLowerCase(), sev = view.sev;
		heads.forEach(function (th, c) {
			if (columns[c] === view.sort) {
				th.setAttribute("aria-sort", view.desc ? "descending" : "ascending");
			} else {
				th.removeAttribute("aria-sort");
			}
		});
		if (want === applied && !q && !sev && hidden === 0) {
			done(rows.length);
			return;
		}
		var reorder = want !== applied;
		var order = reorder ? sortedOrder() : null;
		var hay = q ? texts() : null;
		var i = 0, count = 0;
		table.setAttribute("data-state", "busy");
		shown.setAttribute("data-state", "busy");
		busy.textContent = reorder ? "sorting…" : "filtering…";
		if (body.parentNode === table) {
			table.replaceChild(placeholder, body);
		}
		hidden = -1; // until every row is shown or hidden as the view wants
		if (reorder) {
			applied = null; // until every row is in its place
		}
		function step() {
			if (mine !== job) {
				return;
			}
			for (var end = Math.min(i + chunk, rows.length); i < end; i++) {
				var row = reorder ? rows[order[i]] : body.rows[i];
				var r = reorder ? order[i] : index.get(row);
				var match = (!sev || sev[row.className] === true) && (!q || hay[r].indexOf(q) >= 0);
				if (row.hidden === match) {
					row.hidden = !match;
				}
				if (match) {
					count++;
				}
				if (reorder) {
					body.appendChild(row);
				}
			}
			if (i < rows.length) {
				busy.textContent = shown.textContent = (reorder ? "sorting… " : "filtering… ") + Math.floor(100 * i / rows.length) + "%";
				setTimeout(step, 0);
				return;
			}
			if (reorder) {
				applied = want;
			}
			hidden = rows.length - count;
			table.replaceChild(body, placeholder);
			done(count);
		}
		step();
	}

	function done(count) {
		shown.setAttribute("data-count", String(count));
		shown.textContent = count.toLocaleString("en") + " of " + rows.length.toLocaleString("en") + " findings shown";
		shown.setAttribute("data-state", "ready");
		table.setAttribute("data-state", "ready");
	}

	function readFragment() {
		var p = new URLSearchParams(location.hash.replace(/^#/, ""));
		var sort = p.get("sort"), sev = p.get("sev");
		view.sort = sort && columns.indexOf(sort) >= 0 ? sort : "";
		view.desc = p.get("order") === "desc";
		view.q = p.get("q") || "";
		view.sev = null;
		if (sev !== null) {
			view.sev = {};
			sev.split(",").forEach(function (s) { view.sev[s] = true; });
		}
		text.value = view.q;
		boxes.forEach(function (b) { b.checked = !view.sev || view.sev[b.value] === true; });
	}

	function writeFragment() {
		var p = new URLSearchParams();
		if (view.sort) {
			p.set("sort", view.sort);
			p.set("order", view.desc ? "desc" : "asc");
		}
		if (view.q) {
			p.set("q", view.q);
		}
		if (view.sev) {
			p.set("sev", Object.keys(view.sev).join(","));
		}
		var s = p.toString();
		try {
			history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
		} catch (e) {
			// A browser that refuses (some do for file: pages) keeps the view without the link.
		}
	}

	heads.forEach(function (th) {
		var button = document.createElement("button");
		button.type = "button";
		button.title = "sort by " + th.textContent;
		while (th.firstChild) {
			button.appendChild(th.firstChild);
		}
		th.appendChild(button);
		button.addEventListener("click", function () {
			var column = th.getAttribute("data-key");
			view.desc = view.sort === column ? !view.desc : false;
			view.sort = column;
			writeFragment();
			update();
		});
	});
	var typing = 0;
	text.addEventListener("input", function () {
		clearTimeout(typing);
		typing = setTimeout(function () {
			view.q = text.value;
			writeFragment();
			update();
		}, 200);
	});
	boxes.forEach(function (b) {
		b.addEventListener("change", function () {
			var sev = {}, all = true;
			boxes.forEach(function (x) {
				if (x.checked) {
					sev[x.value] = true;
				} else {
					all = false;
				}
			});
			view.sev = all ? null : sev;
			writeFragment();
			update();
		});
	});
	form.addEventListener("submit", function (e) { e.preventDefault(); });
	window.addEventListener("hashchange", function () {
		readFragment();
		update();
	});
	form.hidden = false;
	readFragment();
	update();
})();
