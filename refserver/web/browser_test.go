package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser tests drive Debian's Chromium, headless, from go test. Without
// Chromium they skip, unless CAREBOOK_REQUIRE_BROWSER=1 (CI), which makes
// them fail instead. Screenshots of the pages a walk passes through are
// saved under $CAREBOOK_SCREENSHOTS (default: carebook-screenshots in the
// system's temp dir), one folder per test, for a reviewer to look at.

// envRequireBrowser makes a missing browser a failure.
const envRequireBrowser = "CAREBOOK_REQUIRE_BROWSER"

// chromium is the browser's path: $CAREBOOK_CHROMIUM, else chromium on
// PATH, else Debian's /usr/bin/chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CAREBOOK_CHROMIUM"); p != "" {
		return p
	}
	return lookTool(t, envRequireBrowser, "Chromium", "chromium", "chromium", "/usr/bin/chromium", "chromium-browser")
}

// lookTool is the path of the first of names found (on PATH, or a path):
// a tool a test runs, named what and installed by Debian's package pkg.
// Without it the test skips, unless the environment variable require is
// 1 (CI), which makes it fail instead.
func lookTool(t *testing.T, require, what, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(require) == "1" {
		t.Fatalf("no %s: install Debian's %s (apt-get install %s), or unset %s", what, pkg, pkg, require)
	}
	t.Skipf("no %s on this machine: its tests are skipped (set %s=1 to fail instead)", what, require)
	return ""
}

// eachJS runs walk as two subtests: with JavaScript off, then on.
func eachJS(t *testing.T, walk func(t *testing.T, js bool)) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) { walk(t, js) })
	}
}

// browser is one headless Chromium tab on the app, with JavaScript on or
// off.
type browser struct {
	t    *testing.T
	a    *app
	ctx  context.Context
	dir  string
	shot int
	js   bool
}

// newBrowser starts a fresh Chromium (its own profile, so its own
// cookies) at 1280×900, with JavaScript off when js is false.
func (a *app) newBrowser(js bool) *browser {
	t := a.t
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if !js {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	root := os.Getenv("CAREBOOK_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "carebook-screenshots")
	}
	dir := filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, a: a, ctx: ctx, dir: dir, js: js}
}

// do runs steps, failing the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// get runs an action that returns a value, failing the test on error.
func get[T any](b *browser, act chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, act)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// open loads path of the app and waits for its main part.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.a.http.URL+path), chromedp.WaitVisible(chromedp.ID("main")))
}

// settled is true in a page whose main part is not the one a click left
// (marked data-old), which has loaded and which no script is replacing.
const settled = `document.readyState === "complete" && !document.body.hasAttribute("aria-busy") &&
	document.getElementById("main") !== null && !("old" in document.getElementById("main").dataset)`

// settle waits for the page a click led to: the script's swap of the main
// part, or a full load when the form or link was not partial. A poll does
// not survive a navigation, so one that a navigation cut short is polled
// again in the new page (a click leads to at most a few navigations: a
// post, its redirect).
func (b *browser) settle() {
	b.t.Helper()
	var err error
	for range 5 {
		if err = b.poll(settled); err == nil {
			return
		}
	}
	b.t.Fatalf("the page did not settle after the click: %v", err)
}

// poll waits until expr is true in the tab's page, for at most 15
// seconds. The wait is bounded here as well as in the page: a poll whose
// page a navigation replaced may never answer (Chromium can keep the old
// execution context without saying it was destroyed), and would hold the
// test to its deadline.
func (b *browser) poll(expr string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second)))
}

// text is the visible text of the page's main part, read in one
// evaluation: a query by node would fail if the page changed between
// finding the node and reading it.
func (b *browser) text() string {
	b.t.Helper()
	return get(b, chromedp.Evaluate[string](`document.getElementById("main").innerText`))
}

// path is the path (and query) the tab shows.
func (b *browser) path() string {
	b.t.Helper()
	return strings.TrimPrefix(get(b, chromedp.Location()), b.a.http.URL)
}

// sees fails unless the page's main part shows every one of texts.
func (b *browser) sees(texts ...string) {
	b.t.Helper()
	got := b.text()
	for _, s := range texts {
		if !strings.Contains(got, s) {
			b.t.Fatalf("%s: the page does not show %q; it shows:\n%s", b.path(), s, got)
		}
	}
}

// fill types value into the input named name, replacing what it held.
func (b *browser) fill(name, value string) {
	b.t.Helper()
	sel := chromedp.CSS(`[name="` + name + `"]`)
	b.do(chromedp.Clear(sel), chromedp.SendKeys(sel, value))
}

// choose selects value in the select named name.
func (b *browser) choose(name, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(`select[name="`+name+`"]`), value))
}

// click clicks the element sel (a CSS selector, or an XPath query when it
// starts with "/") and waits for the page it leads to: a full load
// without JavaScript, the script's swap of the main part with it.
func (b *browser) click(sel string) {
	b.t.Helper()
	clickIt := chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
	if strings.HasPrefix(sel, "/") {
		clickIt = chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)
	}
	if b.js {
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("main").dataset.old = "1"`), clickIt)
		b.settle()
		return
	}
	get(b, chromedp.WaitEvent(cdppage.LoadEventFired, func(cdppage.EventLoadEventFired) bool { return true }, clickIt))
	b.do(chromedp.WaitReady(chromedp.ID("main")))
}

// button clicks the button whose text is label.
func (b *browser) button(label string) {
	b.t.Helper()
	b.click(`//button[normalize-space(.)="` + label + `"]`)
}

// screenshot saves the whole page as <n>-<name>.png in the test's folder.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := get(b, chromedp.FullScreenshot(100))
	b.shot++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// signIn signs the browser in as email, at the sign-in page.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.open("/signin")
	b.fill("email", email)
	b.fill("password", password)
	b.button(catalogs["en"]["signin.submit"])
}
