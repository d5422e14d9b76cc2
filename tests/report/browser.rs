//! Escaping, in a real browser: the fixture's host name, user names, table names,
//! application name and probe message, and the cover fields, carry `<script>`,
//! `<img onerror>` and `{{ }}`. Debian's headless Chromium loads the HTML report; the
//! test asserts that no payload ran and that each is shown as text.
//!
//! A control page with the same payloads unescaped must show their effect, so the test
//! would notice a browser that runs no script at all.

use std::path::Path;
use std::process::Command;

use super::common::{ok, perfdiag, s};
use super::fixture::{self, Names};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A script that marks the page when it runs; `tag` says which field it came from.
fn script(tag: &str) -> String {
    format!("<script>document.documentElement.setAttribute('data-pwned','{tag}')</script>")
}

fn img(tag: &str) -> String {
    format!("<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','{tag}')\">")
}

const TEMPLATE: &str = "{{ 7*7 }}";

fn hostile() -> Names {
    Names {
        hostname: format!("db1{}", script("host")),
        user: format!("app{TEMPLATE}{}", img("user")),
        table: format!("orders{}", script("table")),
        application: img("application"),
        failure: format!("{} {TEMPLATE}", script("probe")),
    }
}

/// The page's DOM after its scripts ran, as Chromium serialises it.
fn dump_dom(page: &Path, profile: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it)"
    );
    let url = format!("file://{}", page.display());
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Lets timers and image error events run before the DOM is dumped.
            "--virtual-time-budget=3000",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// The `<html …>` start tag, where the payloads set their mark.
fn html_tag(dom: &str) -> &str {
    let start = dom.find("<html").expect("an html element");
    let end = dom[start..].find('>').expect("the tag ends") + start;
    &dom[start..=end]
}

/// How a text node holding `text` is serialised: `&`, `<`, `>` escaped.
fn as_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn hostile_names_are_shown_as_text_and_never_run_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let names = hostile();

    // The control: the payloads as markup do run in this browser.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        format!(
            "<!DOCTYPE html><html><body><p>{}</p><p>{}</p></body></html>",
            script("control-script"),
            img("control-img")
        ),
    )
    .unwrap();
    let dom = dump_dom(&control, &dir.path().join("profile-control"));
    assert!(
        html_tag(&dom).contains("data-pwned="),
        "no script ran in the control:\n{dom}"
    );

    let snap = dir.path().join("hostile.pdsnap");
    fixture::write(&names, &snap);
    let html = dir.path().join("hostile.html");
    let customer = format!("ACME{}", script("customer"));
    let engineer = img("engineer");
    ok(&perfdiag(&[
        "report",
        s(&snap),
        "--lang",
        "en",
        "--customer",
        &customer,
        "--engineer",
        &engineer,
        "--system",
        TEMPLATE,
        "-o",
        s(&html),
    ]));
    let dom = dump_dom(&html, &dir.path().join("profile-report"));

    // The payloads' text names the attribute; only a payload that ran sets it.
    assert!(
        !html_tag(&dom).contains("data-pwned") && !dom.contains("data-pwned=\""),
        "a payload ran:\n{}",
        html_tag(&dom)
    );
    assert!(!dom.contains("<script"), "a script element in the report");
    assert!(!dom.contains("<img"), "an img element in the report");
    for (field, text) in [
        ("host name", &names.hostname),
        ("user name", &names.user),
        ("table name in query text", &names.table),
        ("application name", &names.application),
        ("probe message", &names.failure),
        ("customer", &customer),
        ("engineer", &engineer),
    ] {
        assert!(
            dom.contains(&as_text(text)),
            "the {field} is not shown literally: {}",
            as_text(text)
        );
    }
    assert!(
        dom.contains(&format!(
            "<title>{}",
            "Performance diagnosis report · ACME&lt;script&gt;"
        )),
        "the title is not the escaped customer name"
    );
    // The template syntax is text, not evaluated: in the system field and elsewhere.
    assert!(
        dom.matches(TEMPLATE).count() >= 3,
        "{{{{ }}}} was not shown literally"
    );
    assert!(!dom.contains("app49"), "{{{{ 7*7 }}}} was evaluated");
}
