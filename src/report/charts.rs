//! SVG charts of the samples, drawn with plotters.
//!
//! Charts carry numbers on their axes only: titles and legends are HTML around them,
//! because plotters' SVG backend measures text by bytes and would misplace Chinese.
//! The PDF draws the same charts in typst (`report-templates/typst/charts.typ`), with
//! the same colours.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::db_time::DbTimeSeries;
use super::format;
use super::series::{CpuPoint, Line, Series};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 200;

/// Colours shared with the HTML legends (see `style.css`).
pub const CPU_COLOURS: [(&str, RGBColor); 4] = [
    ("user", RGBColor(0x2b, 0x6c, 0xb0)),
    ("system", RGBColor(0xe0, 0x8e, 0x0b)),
    ("iowait", RGBColor(0xc0, 0x39, 0x2b)),
    ("steal", RGBColor(0x7d, 0x3c, 0x98)),
];
/// Wait classes by colour, the same in every target's chart (and in the PDF's):
/// running on a CPU green, I/O blue, locks red.
pub const WAIT_CLASS_COLOURS: [(&str, RGBColor); 11] = [
    ("CPU", RGBColor(0x27, 0xae, 0x60)),
    ("Running", RGBColor(0x27, 0xae, 0x60)),
    ("IO", RGBColor(0x2b, 0x6c, 0xb0)),
    ("Lock", RGBColor(0xc0, 0x39, 0x2b)),
    ("LWLock", RGBColor(0x7d, 0x3c, 0x98)),
    ("BufferPin", RGBColor(0xe0, 0x8e, 0x0b)),
    ("IPC", RGBColor(0x16, 0xa0, 0x85)),
    ("Client", RGBColor(0x95, 0xa5, 0xa6)),
    ("Timeout", RGBColor(0xf1, 0xc4, 0x0f)),
    ("Activity", RGBColor(0xbd, 0xc3, 0xc7)),
    ("Extension", RGBColor(0x8e, 0x6e, 0x53)),
];
/// Wait classes not in [`WAIT_CLASS_COLOURS`] take these in turn.
const OTHER_CLASSES: [RGBColor; 3] = [
    RGBColor(0x34, 0x49, 0x5e),
    RGBColor(0xd3, 0x54, 0x00),
    RGBColor(0x5d, 0x6d, 0x7e),
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

/// A line to draw: its colour, whether it is dashed, and its points.
type Drawn<'a> = (RGBColor, bool, &'a [(f64, f64)]);

/// The charts of a report, as SVG documents (`None` when there is nothing to draw:
/// the templates then say so in a sentence).
#[derive(Debug, Default, serde::Serialize)]
pub struct Charts {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub disk: Option<String>,
    /// Device names in the colour order of the disk chart.
    pub disk_legend: Vec<(String, String)>,
    /// Disk latency (await, ms) per device, each in its utilisation chart's colour.
    pub disk_await: Option<String>,
    pub disk_await_legend: Vec<(String, String)>,
    /// Received (solid) and sent (dashed) throughput per interface.
    pub network: Option<String>,
    /// The unit of the network chart's axis: `KiB/s`, `MiB/s` or `GiB/s`.
    pub network_unit: String,
    /// Interface names in the colour order of the network chart.
    pub network_legend: Vec<(String, String)>,
    /// Errors and drops per second, per interface that had any.
    pub net_errors: Option<String>,
    pub net_errors_legend: Vec<(String, String)>,
    /// Average active sessions by wait class, per database target.
    pub db_time: Vec<DbTimeChart>,
}

#[derive(Debug, serde::Serialize)]
pub struct DbTimeChart {
    pub target: String,
    pub svg: Option<String>,
    /// (wait class, colour), bottom layer first.
    pub legend: Vec<(String, String)>,
}

pub fn draw(series: &Series) -> Charts {
    let disk_legend = legend(&series.disk_util_pct, |i, _| palette(i));
    let disk_colour =
        |i: usize, name: &str| match series.disk_util_pct.iter().position(|(n, _)| n == name) {
            Some(at) => palette(at),
            None => palette(series.disk_util_pct.len() + i),
        };
    let (divisor, network_unit) = throughput_unit(
        series
            .net_rx_bytes_per_s
            .iter()
            .chain(&series.net_tx_bytes_per_s)
            .flat_map(|(_, p)| p.iter().map(|(_, v)| *v))
            .fold(0.0, f64::max),
    );
    let scaled = |lines: &[Line]| -> Vec<Line> {
        lines
            .iter()
            .map(|(n, p)| {
                (
                    n.clone(),
                    p.iter().map(|&(t, v)| (t, v / divisor)).collect(),
                )
            })
            .collect()
    };
    let (rx, tx) = (
        scaled(&series.net_rx_bytes_per_s),
        scaled(&series.net_tx_bytes_per_s),
    );
    let mut network: Vec<Drawn> = Vec::new();
    for (i, ((_, r), (_, t))) in rx.iter().zip(&tx).enumerate() {
        network.push((palette(i), false, r.as_slice()));
        network.push((palette(i), true, t.as_slice()));
    }
    Charts {
        cpu: (series.cpu.len() >= 2)
            .then(|| cpu_chart(&series.cpu))
            .flatten(),
        memory: (series.mem_available_pct.len() >= 2)
            .then(|| lines_chart(&[(LINE, false, &series.mem_available_pct)], Some(100.0)))
            .flatten(),
        disk: named_lines_chart(&series.disk_util_pct, |i, _| palette(i), Some(100.0)),
        disk_legend,
        disk_await: named_lines_chart(&series.disk_await_ms, disk_colour, None),
        disk_await_legend: legend(&series.disk_await_ms, disk_colour),
        network: lines_chart(&network, None),
        network_unit: network_unit.to_owned(),
        network_legend: legend(&series.net_rx_bytes_per_s, |i, _| palette(i)),
        net_errors: named_lines_chart(&series.net_errors_per_s, |i, _| palette(i), None),
        net_errors_legend: legend(&series.net_errors_per_s, |i, _| palette(i)),
        db_time: series.db_time.iter().map(db_time_chart).collect(),
    }
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour of a wait class: its own, or one of the others by its place in the
/// chart.
pub fn wait_class_colour(class: &str, place: usize) -> RGBColor {
    WAIT_CLASS_COLOURS
        .iter()
        .find(|(c, _)| *c == class)
        .map_or(OTHER_CLASSES[place % OTHER_CLASSES.len()], |(_, colour)| {
            *colour
        })
}

fn legend(lines: &[Line], colour: impl Fn(usize, &str) -> RGBColor) -> Vec<(String, String)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), hex(colour(i, name))))
        .collect()
}

/// Bytes per second shown in the unit that keeps the largest value above 1.
fn throughput_unit(max: f64) -> (f64, &'static str) {
    const KIB: f64 = 1024.0;
    if max >= KIB * KIB * KIB {
        (KIB * KIB * KIB, "GiB/s")
    } else if max >= KIB * KIB {
        (KIB * KIB, "MiB/s")
    } else {
        (KIB, "KiB/s")
    }
}

/// The top of a value axis: a round value (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ)
/// at least 5 % above the highest value, so a peak does not run along the frame.
pub(crate) fn axis_top(peak: f64) -> f64 {
    nice_max(peak * 1.05)
}

/// The least of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ at or above `max`.
fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|v| *v >= max * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

fn x_range(points: impl Iterator<Item = f64> + Clone) -> std::ops::Range<f64> {
    let min = points.clone().fold(f64::INFINITY, f64::min);
    let max = points.fold(f64::NEG_INFINITY, f64::max);
    if max > min { min..max } else { min..min + 1.0 }
}

/// Stacked areas: user, system, iowait, steal (percent of all CPUs).
fn cpu_chart(points: &[CpuPoint]) -> Option<String> {
    let layers: [fn(&CpuPoint) -> f64; 4] = [|p| p.user, |p| p.system, |p| p.iowait, |p| p.steal];
    let t: Vec<f64> = points.iter().map(|p| p.t).collect();
    let layers: Vec<(RGBColor, Vec<f64>)> = layers
        .iter()
        .zip(CPU_COLOURS)
        .map(|(f, (_, colour))| (colour, points.iter().map(f).collect()))
        .collect();
    stacked_chart(&t, &layers, 100.0)
}

/// Average active sessions by wait class, stacked, most database time at the bottom.
fn db_time_chart(series: &DbTimeSeries) -> DbTimeChart {
    let colours: Vec<RGBColor> = series
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| wait_class_colour(c, i))
        .collect();
    let t: Vec<f64> = series.points.iter().map(|p| p.t).collect();
    let layers: Vec<(RGBColor, Vec<f64>)> = colours
        .iter()
        .enumerate()
        .map(|(i, colour)| {
            let values = series
                .points
                .iter()
                .map(|p| p.aas.get(i).copied().unwrap_or(0.0))
                .collect();
            (*colour, values)
        })
        .collect();
    let peak = series
        .points
        .iter()
        .map(|p| p.aas.iter().sum::<f64>())
        .fold(0.0, f64::max);
    DbTimeChart {
        target: series.target.clone(),
        svg: (series.points.len() >= 2 && peak > 0.0)
            .then(|| stacked_chart(&t, &layers, axis_top(peak)))
            .flatten(),
        legend: series
            .classes
            .iter()
            .zip(&colours)
            .map(|(c, colour)| (c.clone(), hex(*colour)))
            .collect(),
    }
}

/// Areas stacked bottom-up: `layers` are (colour, a value per time in `t`).
fn stacked_chart(t: &[f64], layers: &[(RGBColor, Vec<f64>)], ymax: f64) -> Option<String> {
    time_chart(x_range(t.iter().copied()), ymax, |chart| {
        // Draw the tallest stack first so each layer shows on top of the one below.
        for level in (0..layers.len()).rev() {
            let colour = layers[level].0;
            let top = t.iter().enumerate().map(|(i, &x)| {
                let y: f64 = layers[..=level].iter().map(|(_, v)| v[i]).sum();
                (x, y.min(ymax))
            });
            chart
                .draw_series(AreaSeries::new(top, 0.0, colour.mix(0.85)).border_style(colour))
                .ok()?;
        }
        Some(())
    })
}

/// One line per named series, coloured by `colour(place, name)`; `None` when no line
/// has two points.
fn named_lines_chart(
    lines: &[Line],
    colour: impl Fn(usize, &str) -> RGBColor,
    ymax: Option<f64>,
) -> Option<String> {
    let drawn: Vec<Drawn> = lines
        .iter()
        .enumerate()
        .map(|(i, (name, points))| (colour(i, name), false, points.as_slice()))
        .collect();
    lines_chart(&drawn, ymax)
}

/// Lines (colour, dashed, points) from 0 to `ymax`, or to a round value above the
/// highest point when `None`; `None` when no line has two points.
fn lines_chart(lines: &[Drawn], ymax: Option<f64>) -> Option<String> {
    if !lines.iter().any(|(_, _, p)| p.len() >= 2) {
        return None;
    }
    let xs = lines.iter().flat_map(|(_, _, p)| p.iter().map(|(x, _)| *x));
    let ymax = ymax.unwrap_or_else(|| {
        axis_top(
            lines
                .iter()
                .flat_map(|(_, _, p)| p.iter().map(|(_, y)| *y))
                .fold(0.0, f64::max),
        )
    });
    time_chart(x_range(xs), ymax, |chart| {
        for (colour, dashed, points) in lines {
            let style = colour.stroke_width(2);
            if *dashed {
                chart
                    .draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))
                    .ok()?;
            } else {
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), style))
                    .ok()?;
            }
        }
        Some(())
    })
}

type TimeChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart of 0–`ymax` over the window's seconds; `draw` adds the series.
fn time_chart(
    x: std::ops::Range<f64>,
    ymax: f64,
    draw: impl FnOnce(&mut TimeChart<'_, '_>) -> Option<()>,
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
            .build_cartesian_2d(x, 0.0..ymax)
            .ok()?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .x_labels((span.ceil() as usize + 1).clamp(2, 8))
            .y_labels(6)
            .x_label_formatter(&|t| elapsed_label(*t, span))
            .y_label_formatter(&|y| axis_number(*y, ymax))
            .draw()
            .ok()?;
        draw(&mut chart)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A value axis label with as many decimals as the axis' scale needs: `80`, `2.5`,
/// `0.25` (one decimal below the axis' top magnitude, none from 10 up).
pub(crate) fn axis_number(y: f64, ymax: f64) -> String {
    let magnitude = if ymax > 0.0 {
        ymax.log10().floor()
    } else {
        0.0
    };
    let decimals = (1.0 - magnitude).clamp(0.0, 4.0) as usize;
    format::number(y, decimals)
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
    use super::super::db_time::AasPoint;
    use super::*;

    fn line(name: &str, points: &[(f64, f64)]) -> Line {
        (name.to_owned(), points.to_vec())
    }

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
            disk_util_pct: vec![line("vda", &[(0.0, 3.0), (1.0, 4.0)])],
            disk_await_ms: vec![line("vda", &[(0.0, 3.0), (1.0, 4.0)])],
            net_rx_bytes_per_s: vec![line("eth0", &[(0.0, 3e6), (1.0, 4e6)])],
            net_tx_bytes_per_s: vec![line("eth0", &[(0.0, 1e6), (1.0, 2e6)])],
            net_errors_per_s: vec![line("eth0", &[(0.0, 0.0), (1.0, 2.0)])],
            db_time: vec![DbTimeSeries {
                target: "pg1".into(),
                engine: "postgres".into(),
                classes: vec!["Lock".into(), "CPU".into(), "Weird".into()],
                points: vec![
                    AasPoint {
                        t: 0.0,
                        aas: vec![2.0, 1.0, 0.0],
                    },
                    AasPoint {
                        t: 1.0,
                        aas: vec![0.5, 0.25, 0.1],
                    },
                ],
            }],
        };
        let charts = draw(&series);
        for svg in [
            &charts.cpu,
            &charts.memory,
            &charts.disk,
            &charts.disk_await,
            &charts.network,
            &charts.net_errors,
            &charts.db_time[0].svg,
        ] {
            let svg = svg.as_ref().unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
        }
        assert_eq!(charts.disk_legend[0].0, "vda");
        assert_eq!(charts.network_unit, "MiB/s");
        assert_eq!(
            charts.db_time[0].legend,
            [
                ("Lock".to_owned(), "#c0392b".to_owned()),
                ("CPU".to_owned(), "#27ae60".to_owned()),
                ("Weird".to_owned(), "#5d6d7e".to_owned()),
            ]
        );
        // The AAS axis goes to a round value above the highest stack (3 sessions).
        let svg = charts.db_time[0].svg.as_ref().unwrap();
        assert!(svg.contains(">\n4\n</text>"), "{svg}");
        assert!(!svg.contains(">\n5\n</text>"), "{svg}");
        assert_eq!(elapsed_label(5.2, 10.0), "5s");
        assert_eq!(elapsed_label(245.0, 600.0), "4:05");
        assert_eq!(elapsed_label(3720.0, 7200.0), "1:02:00");
        let empty = draw(&Series::default());
        assert!(empty.cpu.is_none() && empty.memory.is_none() && empty.disk.is_none());
        assert!(empty.disk_await.is_none() && empty.network.is_none());
        assert!(empty.net_errors.is_none() && empty.db_time.is_empty());
    }

    #[test]
    fn a_line_of_one_point_or_an_idle_database_draws_nothing() {
        let series = Series {
            disk_await_ms: vec![line("sda", &[(3.0, 9.0)])],
            db_time: vec![DbTimeSeries {
                target: "pg1".into(),
                engine: "postgres".into(),
                classes: vec!["CPU".into()],
                points: vec![AasPoint {
                    t: 1.0,
                    aas: vec![1.0],
                }],
            }],
            ..Series::default()
        };
        let charts = draw(&series);
        assert!(charts.disk_await.is_none());
        assert!(charts.db_time[0].svg.is_none());
    }

    #[test]
    fn disk_latency_takes_each_device_colour_from_the_utilisation_chart() {
        let series = Series {
            disk_util_pct: vec![line("sda", &[]), line("sdb", &[])],
            disk_await_ms: vec![line("sdb", &[]), line("nvme0n1", &[])],
            ..Series::default()
        };
        let charts = draw(&series);
        assert_eq!(charts.disk_await_legend[0], ("sdb".into(), hex(PALETTE[1])));
        assert_eq!(
            charts.disk_await_legend[1],
            ("nvme0n1".into(), hex(PALETTE[3]))
        );
    }

    #[test]
    fn axes_are_round_and_units_fit_the_values() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(0.35), 0.4);
        assert_eq!(nice_max(3.0), 3.0);
        assert_eq!(nice_max(2.2), 2.5);
        assert_eq!(nice_max(10.0), 10.0);
        assert_eq!(nice_max(11.0), 12.0);
        assert_eq!(nice_max(730.0), 800.0);
        assert_eq!(axis_top(10.0), 12.0);
        assert_eq!(axis_top(2.0), 2.5);
        assert_eq!(axis_top(4.0), 5.0);
        assert_eq!(throughput_unit(500.0), (1024.0, "KiB/s"));
        assert_eq!(throughput_unit(3e6).1, "MiB/s");
        assert_eq!(throughput_unit(2e9).1, "GiB/s");
        assert_eq!(axis_number(0.25, 0.5), "0.25");
        assert_eq!(axis_number(1.5, 2.5), "1.5");
        assert_eq!(axis_number(40.0, 100.0), "40");
        assert_eq!(axis_number(0.002, 0.012), "0.002");
    }
}
