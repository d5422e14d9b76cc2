//! The KPI charts of the engagement report: each KPI at the diagnosis, the baseline
//! and every re-check on a time axis, the guarantee window's opening and end marked
//! as dashed verticals, out-of-window re-checks as hollow points. Numbers only on the
//! axes (as `src/report/charts.rs`): legends and titles are HTML around them.

use chrono::{DateTime, Utc};
use plotters::prelude::*;

use super::kpis::KpiView;
use crate::case::progress::Role;
use crate::report::charts::{axis_number, axis_top, hex};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 180;

/// Point colours by stage, shared with the HTML legend.
pub const STAGE_COLOURS: [(Role, RGBColor); 3] = [
    (Role::Diagnosis, RGBColor(0xc0, 0x39, 0x2b)),
    (Role::Baseline, RGBColor(0x27, 0xae, 0x60)),
    (Role::Recheck, RGBColor(0x2b, 0x6c, 0xb0)),
];
const LINE: RGBColor = RGBColor(0x9a, 0xa5, 0xb1);
const WINDOW: RGBColor = RGBColor(0x1f, 0x4e, 0x79);

pub fn colour(stage: Role) -> RGBColor {
    STAGE_COLOURS
        .iter()
        .find(|(r, _)| *r == stage)
        .map_or(LINE, |(_, c)| *c)
}

/// `(stage id, colour)` for the legend.
pub fn legend() -> Vec<(&'static str, String)> {
    STAGE_COLOURS
        .iter()
        .map(|(r, c)| (r.id(), hex(*c)))
        .collect()
}

/// The chart of one KPI; `None` with no point to draw.
pub fn draw(k: &KpiView, window: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Option<String> {
    if k.points.is_empty() {
        return None;
    }
    let t = |x: i64| x as f64;
    let mut xs: Vec<f64> = k.points.iter().map(|p| t(p.t)).collect();
    if let Some((from, until)) = window {
        xs.extend([t(from.timestamp()), t(until.timestamp())]);
    }
    let (min, max) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
    let pad = ((max - min) * 0.04).max(3600.0);
    let x = (min - pad)..(max + pad);
    let ymax = axis_top(k.points.iter().map(|p| p.value).fold(0.0, f64::max));
    let days = (x.end - x.start) / 86_400.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(44)
            .build_cartesian_2d(x, 0.0..ymax)
            .ok()?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|v| {
                DateTime::<Utc>::from_timestamp(*v as i64, 0).map_or_else(String::new, |d| {
                    d.format(if days > 2.0 { "%m-%d" } else { "%m-%d %H:%M" })
                        .to_string()
                })
            })
            .y_label_formatter(&|y| axis_number(*y, ymax))
            .draw()
            .ok()?;
        if let Some((from, until)) = window {
            for at in [from, until] {
                let v = t(at.timestamp());
                chart
                    .draw_series(DashedLineSeries::new(
                        [(v, 0.0), (v, ymax)],
                        5,
                        4,
                        WINDOW.stroke_width(1),
                    ))
                    .ok()?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                k.points.iter().map(|p| (t(p.t), p.value)),
                LINE.stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(k.points.iter().map(|p| {
                let c = colour(p.stage);
                let style = if p.in_window {
                    c.filled()
                } else {
                    c.stroke_width(2)
                };
                Circle::new((t(p.t), p.value), 5, style)
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}
