//! SVG charts of the samples, drawn with plotters.
//!
//! Charts carry numbers on their axes only: titles and legends are HTML around them,
//! because plotters' SVG backend measures text by bytes and would misplace Chinese.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::model::{CpuPoint, Series};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 200;

/// Colours shared with the HTML legends (see `style.css`).
pub const CPU_COLOURS: [(&str, RGBColor); 4] = [
    ("user", RGBColor(0x2b, 0x6c, 0xb0)),
    ("system", RGBColor(0xe0, 0x8e, 0x0b)),
    ("iowait", RGBColor(0xc0, 0x39, 0x2b)),
    ("steal", RGBColor(0x7d, 0x3c, 0x98)),
];
const LINE: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x2b, 0x6c, 0xb0),
    RGBColor(0xe0, 0x8e, 0x0b),
    RGBColor(0x27, 0xae, 0x60),
    RGBColor(0xc0, 0x39, 0x2b),
    RGBColor(0x7d, 0x3c, 0x98),
    RGBColor(0x16, 0xa0, 0x85),
];

/// The charts of a report, as SVG documents (empty when there is nothing to draw).
#[derive(Debug, Default, serde::Serialize)]
pub struct Charts {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub disk: Option<String>,
    /// Device names in the colour order of the disk chart.
    pub disk_legend: Vec<(String, String)>,
}

pub fn draw(series: &Series) -> Charts {
    let disk_legend = series
        .disk_util_pct
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), hex(PALETTE[i % PALETTE.len()])))
        .collect();
    Charts {
        cpu: (series.cpu.len() >= 2)
            .then(|| cpu_chart(&series.cpu))
            .flatten(),
        memory: (series.mem_available_pct.len() >= 2)
            .then(|| lines_chart(&[(LINE, &series.mem_available_pct)]))
            .flatten(),
        disk: (!series.disk_util_pct.is_empty())
            .then(|| {
                let lines: Vec<_> = series
                    .disk_util_pct
                    .iter()
                    .enumerate()
                    .map(|(i, (_, points))| (PALETTE[i % PALETTE.len()], points.as_slice()))
                    .collect();
                lines_chart(&lines)
            })
            .flatten(),
        disk_legend,
    }
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn x_range(points: impl Iterator<Item = f64> + Clone) -> std::ops::Range<f64> {
    let min = points.clone().fold(f64::INFINITY, f64::min);
    let max = points.fold(f64::NEG_INFINITY, f64::max);
    if max > min { min..max } else { min..min + 1.0 }
}

/// Stacked areas: user, system, iowait, steal (percent of all CPUs).
fn cpu_chart(points: &[CpuPoint]) -> Option<String> {
    percent_chart(x_range(points.iter().map(|p| p.t)), |chart| {
        let layers: [fn(&CpuPoint) -> f64; 4] =
            [|p| p.user, |p| p.system, |p| p.iowait, |p| p.steal];
        // Draw the tallest stack first so each layer shows on top of the one below.
        for level in (0..layers.len()).rev() {
            let colour = CPU_COLOURS[level].1;
            let top = points.iter().map(|p| {
                let y: f64 = layers[..=level].iter().map(|f| f(p)).sum();
                (p.t, y.min(100.0))
            });
            chart
                .draw_series(AreaSeries::new(top, 0.0, colour.mix(0.85)).border_style(colour))
                .ok()?;
        }
        Some(())
    })
}

fn lines_chart(lines: &[(RGBColor, &[(f64, f64)])]) -> Option<String> {
    let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    percent_chart(x_range(xs), |chart| {
        for (colour, points) in lines {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .ok()?;
        }
        Some(())
    })
}

type PercentChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart of 0–100 % over the window's seconds; `draw` adds the series.
fn percent_chart(
    x: std::ops::Range<f64>,
    draw: impl FnOnce(&mut PercentChart<'_, '_>) -> Option<()>,
) -> Option<String> {
    let span = x.end - x.start;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(36)
            .build_cartesian_2d(x, 0.0..100.0)
            .ok()?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .x_labels((span.ceil() as usize + 1).clamp(2, 8))
            .y_labels(6)
            .x_label_formatter(&|t| elapsed_label(*t, span))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .ok()?;
        draw(&mut chart)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Seconds into the window as an axis label: `12s` for short windows, `4:05` (m:ss)
/// up to an hour, `1:02:00` beyond.
fn elapsed_label(t: f64, span: f64) -> String {
    let secs = t.max(0.0).round() as u64;
    if span < 120.0 {
        format!("{secs}s")
    } else if span < 3600.0 {
        format!("{}:{:02}", secs / 60, secs % 60)
    } else {
        format!("{}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_and_empty_series_draw_nothing() {
        let series = Series {
            cpu: (0..5)
                .map(|i| CpuPoint {
                    t: f64::from(i),
                    user: 20.0,
                    system: 5.0,
                    iowait: 1.0,
                    steal: 0.0,
                })
                .collect(),
            mem_available_pct: vec![(0.0, 50.0), (1.0, 49.0)],
            disk_util_pct: vec![("vda".into(), vec![(0.0, 3.0), (1.0, 4.0)])],
        };
        let charts = draw(&series);
        for svg in [&charts.cpu, &charts.memory, &charts.disk] {
            let svg = svg.as_ref().unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
        }
        assert_eq!(charts.disk_legend[0].0, "vda");
        assert_eq!(elapsed_label(5.2, 10.0), "5s");
        assert_eq!(elapsed_label(245.0, 600.0), "4:05");
        assert_eq!(elapsed_label(3720.0, 7200.0), "1:02:00");
        let empty = draw(&Series::default());
        assert!(empty.cpu.is_none() && empty.memory.is_none() && empty.disk.is_none());
    }
}
