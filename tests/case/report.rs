//! The engagement report, after a regression and after the window.

use super::*;

/// Every key of a JSON value, at any depth.
fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args([s(pdf), "-"])
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The NUMA host's case through a holding re-check and a regressed one (THP back on),
/// then its engagement report in HTML, JSON and PDF, in English and Chinese.
#[test]
fn the_engagement_report_tells_the_whole_story_after_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let (case, after) = optimized_case(dir.path());
    let c = s(&case);
    let good = dir.path().join("recheck-1.pdsnap");
    collect(&after, &good);
    ok(&perfdiag(&["case", "recheck", c, "--snapshot", s(&good)]));
    let broken = tree(dir.path(), "numa", "broken", false);
    let bad = dir.path().join("recheck-2.pdsnap");
    collect(&broken, &bad);
    let out = ok(&perfdiag(&["case", "recheck", c, "--snapshot", s(&bad)]));
    assert!(out.contains("BREACHED"), "{out}");
    let status = status_json(None, &case);
    assert_eq!(step(&status, "os.thp.disable")["state"], "regressed");
    let days_left = status["guarantee"]["days_left"].as_i64().unwrap();
    // The row of the step shows when it was applied, verified and regressed.
    let when = |v: &Value| time(v).format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let history = &step(&status, "os.thp.disable")["history"];
    let row = format!(
        "<td class=\"state-regressed\">regressed</td><td>{}</td><td>{}</td><td>{}</td>",
        when(&history[1]["at"]),
        when(&history[2]["at"]),
        when(&history[3]["at"])
    );

    // HTML, English: the default file in the case folder.
    let before = contents(&case);
    ok(&perfdiag(&["case", "report", c]));
    let html = std::fs::read_to_string(case.join("engagement-report.html")).unwrap();
    assert!(!html.contains("[["), "a catalog key is missing");
    assert!(html.contains("Engagement report"));
    assert!(html.contains("ACME"));
    // Every link to a step's scripts has its target in the appendix.
    let link = "href=\"#step-";
    for (i, _) in html.match_indices(link) {
        let number: String = html[i + link.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(
            html.contains(&format!("id=\"step-{number}\"")),
            "no target for #step-{number}"
        );
    }
    assert!(
        html.contains("href=\"#step-"),
        "the plan links to its scripts"
    );
    // The steps, verified and regressed, with their dates.
    let steps = &html[html.find("id=\"steps\"").unwrap()..html.find("id=\"kpis\"").unwrap()];
    assert!(steps.contains("os.thp.disable"), "{steps}");
    assert!(steps.contains("os.sysctl.swappiness"), "{steps}");
    assert!(
        steps.contains("class=\"state-regressed\">regressed"),
        "{steps}"
    );
    assert!(steps.contains(&row), "{row} not in {steps}");
    // The regression with its evidence.
    let regression = &status["open_regressions"][0];
    assert_eq!(regression["kind"], "step_regressed");
    let finding = regression["findings"][0]["finding"].as_str().unwrap();
    let metric = regression["findings"][0]["evidence"][0]["metric"]
        .as_str()
        .unwrap();
    let open = &html[html.find("id=\"regressions\"").unwrap()..];
    assert!(
        open.contains("step os.thp.disable regressed: what it fixed is back"),
        "{open}"
    );
    assert!(open.contains(finding) && open.contains(metric), "{open}");
    // The status and days left.
    assert!(html.contains("BREACHED"));
    assert!(
        html.contains(&format!("{days_left} days left")),
        "no {days_left} days left"
    );
    // A chart of each KPI, with the window marked.
    let kpis = &html[html.find("id=\"kpis\"").unwrap()..html.find("id=\"gains\"").unwrap()];
    assert!(
        kpis.contains("<div class=\"chart kpi-chart\"><svg"),
        "no KPI chart"
    );
    assert!(kpis.contains("re-check"));
    // The sign-off page, blank until confirmed.
    assert!(html.contains("id=\"confirmation\""));
    assert!(html.contains("class=\"blank tall\""));
    assert!(
        contents(&case).len() == before.len() + 1,
        "only the report was added"
    );

    // JSON: the model, every key of it documented.
    let json = dir.path().join("engagement.json");
    ok(&perfdiag(&["case", "report", c, "-o", s(&json)]));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(model["kind"], "engagement");
    assert_eq!(model["guarantee"]["status"], "breached");
    assert_eq!(model["guarantee"]["days_left"], days_left);
    assert_eq!(model["regressions"][0]["kind"], "step_regressed");
    assert_eq!(model["regressions"][0]["breaches"], true);
    assert_eq!(model["rechecks"].as_array().unwrap().len(), 2);
    assert_eq!(model["confirmation"]["signed"], false);
    let kpi = &model["kpis"][0];
    let stages: Vec<&str> = kpi["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["diagnosis", "baseline", "recheck", "recheck"],
        "{kpi:#}"
    );
    assert!(model["diagnosis"]["findings"].as_array().unwrap().len() >= 2);
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/engagement-report.md"),
    )
    .unwrap();
    let mut all = std::collections::BTreeSet::new();
    keys(&model, &mut all);
    // The diagnosis keeps the single-snapshot model's fields, documented there.
    let single =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-model.md"))
            .unwrap();
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")) && !single.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/engagement-report.md: {undocumented:?}"
    );
    assert!(doc.contains(&format!(
        "`{{\"major\": {}, \"minor\": {}}}`",
        model["schema_version"]["major"], model["schema_version"]["minor"]
    )));

    // Chinese, HTML and PDF; then confirmed, the sign-off shows who and when.
    let zh = dir.path().join("engagement-zh.html");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--lang",
        "zh-CN",
        "-o",
        s(&zh),
    ]));
    let zh = std::fs::read_to_string(&zh).unwrap();
    assert!(!zh.contains("[["), "a catalog key is missing");
    assert!(zh.contains("优化服务报告") && zh.contains("已违约") && zh.contains("已退化"));
    let pdf = dir.path().join("engagement-zh.pdf");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--lang",
        "zh-CN",
        "-o",
        s(&pdf),
    ]));
    let text = pdf_text(&pdf);
    for title in [
        "优化服务报告",
        "执行摘要",
        "效果保障状态",
        "优化方案与实施记录",
        "未解决的退化",
        "服务确认",
        "已违约",
    ] {
        assert!(text.contains(title), "{title} not in the PDF:\n{text}");
    }
    assert!(!text.contains("[["), "a catalog key is missing:\n{text}");
    ok(&perfdiag(&["case", "confirm", c, "--by", "Wang Fang"]));
    let pdf = dir.path().join("engagement-en.pdf");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--format",
        "pdf",
        "-o",
        s(&pdf),
    ]));
    let text = pdf_text(&pdf);
    assert!(text.contains("ConfirmedbyWangFang"), "{text}");
    assert!(text.contains("os.thp.disable"), "{text}");
    assert!(text.contains(&format!("{days_left}daysleft")), "{text}");

    // After the window closes, a re-check is still recorded, and every view of it in
    // the report is labelled out of window.
    let until = time(&status["optimization"]["until"]);
    let late = rfc3339(until + chrono::Duration::days(10));
    let toml_path = case.join("case.toml");
    let toml = std::fs::read_to_string(&toml_path)
        .unwrap()
        .replace("duration = \"60s\"", "duration = \"1s\"")
        .replace(
            "# host_root = \"/host\"",
            &format!("host_root = \"{}\"", s(&after)),
        );
    std::fs::write(&toml_path, toml).unwrap();
    let out = ok(&perfdiag_at(Some(&late), &["case", "recheck", c, "-q"]));
    assert!(out.contains("(out of window)"), "{out}");
    let html = dir.path().join("late.html");
    ok(&perfdiag_at(
        Some(&late),
        &["case", "report", c, "-o", s(&html)],
    ));
    let html = std::fs::read_to_string(&html).unwrap();
    let rows: Vec<&str> = html
        .split("<tr class=\"recheck")
        .skip(1)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .collect();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert!(
        rows[..2].iter().all(|r| r.contains("in the window")),
        "{rows:#?}"
    );
    assert!(
        rows[2].starts_with(" out\"") && rows[2].contains("<td>out of window</td>"),
        "{}",
        rows[2]
    );
    let kpis = &html[html.find("id=\"kpis\"").unwrap()..html.find("id=\"gains\"").unwrap()];
    assert!(
        kpis.contains("<tr class=\"out\">") && kpis.contains("<td>out of window</td>"),
        "the late point is not marked in the KPI tables"
    );
    assert!(html.contains(", ended"), "the window is not shown as ended");
}
