// carebook pages: progressive enhancement only. Every page and form works
// without this script; with it, forms and links marked data-partial are
// fetched and only the page's <main> (and its header, for the counts) is
// replaced, keeping the history. No inline script, no external URL.
(function () {
	"use strict";
	if (!window.fetch || !window.DOMParser || !window.history.pushState) {
		return;
	}
	function swap(html, url, push) {
		var doc = new DOMParser().parseFromString(html, "text/html");
		var main = doc.getElementById("main");
		if (!main) {
			window.location.assign(url);
			return;
		}
		document.getElementById("main").replaceWith(main);
		var head = doc.querySelector("header.top"), cur = document.querySelector("header.top");
		if (head && cur) {
			cur.replaceWith(head);
		}
		document.title = doc.title;
		if (push) {
			window.history.pushState({ partial: true }, "", url);
		}
		var focus = main.querySelector("[autofocus], h1");
		if (focus) {
			if (!focus.hasAttribute("tabindex")) {
				focus.setAttribute("tabindex", "-1");
			}
			focus.focus();
		}
	}
	function load(url, init, push) {
		init.headers = { "X-Partial": "1" };
		init.credentials = "same-origin";
		document.body.setAttribute("aria-busy", "true");
		return fetch(url, init).then(function (res) {
			return res.text().then(function (text) {
				swap(text, res.url || url, push);
			});
		}).catch(function () {
			window.location.assign(url);
		}).finally(function () {
			document.body.removeAttribute("aria-busy");
		});
	}
	document.addEventListener("submit", function (ev) {
		var form = ev.target;
		if (!form.hasAttribute("data-partial") || ev.defaultPrevented) {
			return;
		}
		ev.preventDefault();
		var data = new URLSearchParams(new FormData(form, ev.submitter || null));
		var method = (form.getAttribute("method") || "get").toUpperCase();
		var action = form.getAttribute("action") || window.location.pathname + window.location.search;
		if (method === "GET") {
			var u = new URL(action, window.location.href);
			u.search = data.toString();
			load(u.toString(), { method: "GET" }, true);
		} else {
			load(action, { method: method, body: data }, true);
		}
	});
	document.addEventListener("click", function (ev) {
		var a = ev.target.closest && ev.target.closest("a[data-partial]");
		if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) {
			return;
		}
		ev.preventDefault();
		load(a.href, { method: "GET" }, true);
	});
	// "Use my location" of the directory's search: the browser's position
	// fills the form's lat and lon (the ZIP code is then left out).
	document.addEventListener("click", function (ev) {
		var b = ev.target.closest && ev.target.closest("button[data-near-me]");
		if (!b || !navigator.geolocation) {
			return;
		}
		navigator.geolocation.getCurrentPosition(function (pos) {
			var f = b.form;
			f.elements.lat.value = pos.coords.latitude.toFixed(4);
			f.elements.lon.value = pos.coords.longitude.toFixed(4);
			f.elements.zip.value = "";
			b.textContent = b.getAttribute("data-located");
		});
	});
	window.addEventListener("popstate", function () {
		load(window.location.href, { method: "GET" }, false);
	});
	document.documentElement.classList.add("js");
})();
