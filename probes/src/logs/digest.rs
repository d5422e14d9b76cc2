//! Aggregation of log events per fingerprint (the "digest"), and the parallel driver
//! that reads a log in bounded memory on all cores.
//!
//! Memory is bounded by the block size plus the number of distinct fingerprints, never
//! by the log size: every per-class statistic is a fixed-size summary (sums, extremes,
//! a sparse log-scale histogram, bounded sets, per-minute counts).
//!
//! Percentiles use pt-query-digest's bucket scheme (EventAggregator.pm), so that the
//! 95% and median we print are the values pt prints: 1000 buckets, bucket `i > 0`
//! holds values whose `floor(284.1617969… + ln(v)/ln(1.05))` is `i` (values below
//! 1 µs go to bucket 0), and a bucket's value is `1.05^(i-1) · 1e-6`. pt's 95% is the
//! value of the highest bucket that remains once the top `n - floor(0.95 n)` values
//! (`n ≥ 10`, else none) are set aside; with one value (or all equal) it is the value,
//! with two the max (median: the mean of both). Buckets are stored sparsely (a class seldom uses
//! more than a few dozen), as pt itself does since maatkit issue 866.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use super::{LogEvent, LogParser, ParseStats};
use crate::sql::fingerprint::{fingerprint_id, fingerprint_into};

const NUM_BUCK: usize = 1000;
const MIN_BUCK: f64 = 0.000_001;
const BUCK_SIZE: f64 = 1.05;
/// ln(1.05).
const BASE_LOG: f64 = 0.048_790_164_169_432_05;
/// |1 - ln(1e-6)/ln(1.05)|, as in pt.
const BASE_OFFSET: f64 = 284.161_796_914_386_06;

/// The classes map is keyed by fingerprint ids, which are already hashes: hashing
/// them again (SipHash) would be wasted work in the per-event lookup.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `HashMap` keyed by fingerprint id.
pub type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

fn bucket_idx(v: f64) -> u16 {
    if v.is_nan() || v < MIN_BUCK {
        return 0;
    }
    let idx = (BASE_OFFSET + v.ln() / BASE_LOG) as i64;
    idx.clamp(0, NUM_BUCK as i64 - 1) as u16
}

fn bucket_value(i: u16) -> f64 {
    if i == 0 {
        0.0
    } else {
        BUCK_SIZE.powi(i32::from(i) - 1) * MIN_BUCK
    }
}

/// Summary of one numeric attribute (query time in seconds, rows, …) of one class.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metric {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Sparse pt histogram: (bucket index, count), sorted by index.
    buckets: Vec<(u16, u64)>,
}

impl Metric {
    pub fn add(&mut self, v: f64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        self.sum += v;
        let b = bucket_idx(v);
        match self.buckets.binary_search_by_key(&b, |&(i, _)| i) {
            Ok(p) => self.buckets[p].1 += 1,
            Err(p) => self.buckets.insert(p, (b, 1)),
        }
    }

    pub fn merge(&mut self, o: &Metric) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o.clone();
            return;
        }
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        for &(b, c) in &o.buckets {
            match self.buckets.binary_search_by_key(&b, |&(i, _)| i) {
                Ok(p) => self.buckets[p].1 += c,
                Err(p) => self.buckets.insert(p, (b, c)),
            }
        }
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    /// pt's 95th percentile (see the module documentation).
    pub fn p95(&self) -> f64 {
        self.pt_stats().0
    }

    /// pt's median.
    pub fn p50(&self) -> f64 {
        self.pt_stats().1
    }

    /// The `q` quantile (0..=1) from the same buckets: the value of the bucket holding
    /// the `ceil(q·n)`-th smallest value, capped at the max.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for &(b, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                return bucket_value(b).min(self.max);
            }
        }
        self.max
    }

    pub fn p99(&self) -> f64 {
        self.quantile(0.99)
    }

    /// (95%, median) exactly as pt's `calculate_statistical_metrics`.
    fn pt_stats(&self) -> (f64, f64) {
        match self.count {
            0 => return (0.0, 0.0),
            _ if self.count == 1 || self.min == self.max => return (self.max, self.max),
            2 => return (self.max, (self.min + self.max) / 2.0),
            _ => {}
        }
        let n = self.count;
        let cutoff = if n >= 10 { (n as f64 * 0.95) as u64 } else { n };
        let top_vals = n - cutoff;
        let mid = n / 2;
        let mut total_left = n;
        let mut sum_excl = 0;
        let mut b95: Option<u16> = None;
        let mut median: Option<f64> = None;
        let mut prev = (NUM_BUCK - 1) as u16;
        for &(b, val) in self.buckets.iter().rev() {
            total_left -= val;
            sum_excl += val;
            if b95.is_none() && sum_excl > top_vals {
                b95 = Some(b);
            }
            if median.is_none() && total_left <= mid {
                median = Some(if cutoff % 2 == 1 || val > 1 {
                    bucket_value(b)
                } else {
                    (bucket_value(b) + bucket_value(prev)) / 2.0
                });
            }
            prev = b;
        }
        (b95.map_or(0.0, bucket_value), median.unwrap_or(0.0))
    }
}

/// A set that keeps at most `cap` distinct values (then counts the rest), so a class
/// seen from a million client ports stays small.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundedSet {
    /// Value → occurrences.
    pub values: BTreeMap<String, u64>,
    /// Occurrences of values not kept because the set was full.
    pub overflow: u64,
}

impl BoundedSet {
    pub const CAP: usize = 32;

    pub fn add(&mut self, v: &str, n: u64) {
        if let Some(c) = self.values.get_mut(v) {
            *c += n;
        } else if self.values.len() < Self::CAP {
            self.values.insert(v.to_owned(), n);
        } else {
            self.overflow += n;
        }
    }

    pub fn merge(&mut self, o: &BoundedSet) {
        for (v, &n) in &o.values {
            self.add(v, n);
        }
        self.overflow += o.overflow;
    }
}

/// Execution counts per time bucket. Buckets are one minute wide until a class spans
/// more than [`Timeline::MAX_BUCKETS`] of them; then the width doubles (2, 4, 8 …
/// minutes) so memory stays bounded however long the log is.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Width of a bucket in minutes (a power of two).
    pub step_minutes: i64,
    /// Bucket start (minutes since the Unix epoch, a multiple of the step) → count.
    pub buckets: BTreeMap<i64, u64>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            step_minutes: 1,
            buckets: BTreeMap::new(),
        }
    }
}

impl Timeline {
    /// A week of minutes at most per class (the guarantee window's charts are daily).
    pub const MAX_BUCKETS: usize = 7 * 24 * 60;

    pub fn add(&mut self, minute: i64, n: u64) {
        let key = minute.div_euclid(self.step_minutes) * self.step_minutes;
        *self.buckets.entry(key).or_default() += n;
        while self.buckets.len() > Self::MAX_BUCKETS {
            self.coarsen(self.step_minutes * 2);
        }
    }

    fn coarsen(&mut self, step: i64) {
        let old = std::mem::take(&mut self.buckets);
        self.step_minutes = step;
        for (k, c) in old {
            *self.buckets.entry(k.div_euclid(step) * step).or_default() += c;
        }
    }

    pub fn merge(&mut self, o: &Timeline) {
        if o.step_minutes > self.step_minutes {
            self.coarsen(o.step_minutes);
        }
        for (&k, &c) in &o.buckets {
            self.add(k, c);
        }
    }
}

/// Longest sample statement kept: enough to read and EXPLAIN any real query, while a
/// 100 MB mysqldump insert does not stay in memory for the whole run.
pub const SAMPLE_MAX: usize = 1 << 20;

fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Everything known about one fingerprint class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassStats {
    pub id: u64,
    pub fingerprint: String,
    /// The statement of the slowest execution (pt's "worst" sample), and where it is.
    pub sample: String,
    pub sample_offset: u64,
    sample_time: f64,
    pub count: u64,
    /// Seconds.
    pub query_time: Metric,
    /// Seconds.
    pub lock_time: Metric,
    pub rows_sent: Metric,
    pub rows_examined: Metric,
    pub first_seen_us: Option<i64>,
    pub last_seen_us: Option<i64>,
    pub databases: BoundedSet,
    pub users: BoundedSet,
    pub hosts: BoundedSet,
    /// Executions over time, for charts: normally per minute, coarser for classes
    /// seen over a long span (see [`Timeline`]).
    pub per_minute: Timeline,
}

impl ClassStats {
    fn new(id: u64, fingerprint: &str) -> Self {
        ClassStats {
            id,
            fingerprint: fingerprint.to_owned(),
            sample: String::new(),
            sample_offset: 0,
            sample_time: f64::NEG_INFINITY,
            count: 0,
            query_time: Metric::default(),
            lock_time: Metric::default(),
            rows_sent: Metric::default(),
            rows_examined: Metric::default(),
            first_seen_us: None,
            last_seen_us: None,
            databases: BoundedSet::default(),
            users: BoundedSet::default(),
            hosts: BoundedSet::default(),
            per_minute: Timeline::default(),
        }
    }

    fn add(&mut self, ev: &LogEvent<'_>) {
        self.count += 1;
        let qt = ev.duration_ms.map(|ms| ms / 1000.0);
        if let Some(t) = qt {
            self.query_time.add(t);
        }
        if let Some(ms) = ev.lock_ms {
            self.lock_time.add(ms / 1000.0);
        }
        if let Some(r) = ev.rows_sent {
            self.rows_sent.add(r as f64);
        }
        if let Some(r) = ev.rows_examined {
            self.rows_examined.add(r as f64);
        }
        // pt keeps the last event with the greatest Query_time (`>=` replaces).
        let t = qt.unwrap_or(0.0);
        if t >= self.sample_time {
            self.sample_time = t;
            self.sample.clear();
            self.sample
                .push_str(truncate_at_char(&ev.statement, SAMPLE_MAX));
            self.sample_offset = ev.offset;
        }
        if let Some(ts) = ev.ts_us {
            self.first_seen_us = Some(self.first_seen_us.map_or(ts, |f| f.min(ts)));
            self.last_seen_us = Some(self.last_seen_us.map_or(ts, |l| l.max(ts)));
            self.per_minute.add(ts.div_euclid(60_000_000), 1);
        }
        if let Some(d) = ev.database {
            self.databases.add(d, 1);
        }
        if let Some(u) = ev.user {
            self.users.add(u, 1);
        }
        if let Some(h) = ev.client {
            self.hosts.add(h, 1);
        }
    }

    fn merge(&mut self, o: &ClassStats) {
        self.count += o.count;
        self.query_time.merge(&o.query_time);
        self.lock_time.merge(&o.lock_time);
        self.rows_sent.merge(&o.rows_sent);
        self.rows_examined.merge(&o.rows_examined);
        // Ties go to the later offset, which is what a single pass would keep.
        if o.sample_time > self.sample_time
            || (o.sample_time == self.sample_time && o.sample_offset > self.sample_offset)
        {
            self.sample_time = o.sample_time;
            self.sample.clone_from(&o.sample);
            self.sample_offset = o.sample_offset;
        }
        self.first_seen_us = match (self.first_seen_us, o.first_seen_us) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        self.last_seen_us = match (self.last_seen_us, o.last_seen_us) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        self.databases.merge(&o.databases);
        self.users.merge(&o.users);
        self.hosts.merge(&o.hosts);
        self.per_minute.merge(&o.per_minute);
    }
}

/// The per-fingerprint aggregation of a whole log (or a part of it).
#[derive(Debug, Clone, Default)]
pub struct Digest {
    /// Keyed by the hash of the fingerprint text; by class id after [`Digest::finish`].
    pub classes: IdMap<ClassStats>,
    pub events: u64,
    /// Scratch buffer for fingerprints: reused so the hot path does not allocate.
    scratch: String,
}

/// One line of the response-time profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow<'a> {
    pub rank: usize,
    pub class: &'a ClassStats,
    /// Share of the total query time of all classes, 0..=1.
    pub share: f64,
}

impl Digest {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event: fingerprint into the reused buffer, hash, then look up; the
    /// fingerprint is copied only when the class is new.
    pub fn add(&mut self, ev: &LogEvent<'_>) {
        self.events += 1;
        fingerprint_into(&ev.statement, &mut self.scratch);
        // Keyed by the hash of the fingerprint itself (one pass over it); the
        // source-neutral class id is computed once per new class, and classes that
        // share it are merged by `finish`.
        let key = xxhash_rust::xxh3::xxh3_64(self.scratch.as_bytes());
        let class = self
            .classes
            .entry(key)
            .or_insert_with(|| ClassStats::new(fingerprint_id(&self.scratch), &self.scratch));
        class.add(ev);
    }

    /// Merges the classes that have one id but were told apart by spelling only
    /// (`id=?` and `id = ?`), keeping the fingerprint of the most frequent, and keys
    /// the map by class id. Call once, after the last event and merge.
    pub fn finish(self) -> Digest {
        let mut classes: Vec<ClassStats> = self.classes.into_values().collect();
        classes.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
        let mut out = Digest {
            events: self.events,
            ..Digest::default()
        };
        for c in classes {
            match out.classes.get_mut(&c.id) {
                Some(mine) => mine.merge(&c),
                None => {
                    out.classes.insert(c.id, c);
                }
            }
        }
        out
    }

    pub fn merge(&mut self, other: Digest) {
        self.events += other.events;
        for (id, c) in other.classes {
            match self.classes.get_mut(&id) {
                Some(mine) => mine.merge(&c),
                None => {
                    self.classes.insert(id, c);
                }
            }
        }
    }

    /// Sum of the query time of all events, seconds.
    pub fn total_query_time(&self) -> f64 {
        self.classes.values().map(|c| c.query_time.sum).sum()
    }

    /// Classes ranked by total query time (the response-time profile), ties broken by
    /// count then id so the order is deterministic.
    pub fn profile(&self) -> Vec<ProfileRow<'_>> {
        let total = self.total_query_time();
        let mut v: Vec<&ClassStats> = self.classes.values().collect();
        v.sort_by(|a, b| {
            b.query_time
                .sum
                .total_cmp(&a.query_time.sum)
                .then(b.count.cmp(&a.count))
                .then(a.id.cmp(&b.id))
        });
        v.into_iter()
            .enumerate()
            .map(|(i, class)| ProfileRow {
                rank: i + 1,
                class,
                share: if total > 0.0 {
                    class.query_time.sum / total
                } else {
                    0.0
                },
            })
            .collect()
    }
}

/// Parses `chunk` into a new digest.
pub fn digest_chunk(parser: &dyn LogParser, chunk: &[u8], base: u64) -> (Digest, ParseStats) {
    let mut d = Digest::new();
    let stats = parser.parse(chunk, base, &mut |ev| d.add(&ev));
    (d, stats)
}

/// Default size of the blocks read from the input.
pub const BLOCK_SIZE: usize = 16 << 20;

/// Reads `reader` to the end and digests it on `threads` threads.
///
/// The input is read in blocks of [`BLOCK_SIZE`]; each block is cut at event
/// boundaries into one chunk per thread, and the unfinished last event is carried to
/// the next block. A block without any boundary (one huge statement) grows until a
/// boundary or the end of input. `progress` gets the number of input bytes consumed.
pub fn digest_reader(
    reader: impl Read,
    parser: &dyn LogParser,
    threads: usize,
    progress: &dyn Fn(u64),
) -> Result<(Digest, ParseStats), std::io::Error> {
    digest_reader_with_block(reader, parser, threads, progress, BLOCK_SIZE)
}

/// [`digest_reader`] with a chosen block size (tests use tiny blocks to exercise the
/// carrying of tails).
pub fn digest_reader_with_block(
    mut reader: impl Read,
    parser: &dyn LogParser,
    threads: usize,
    progress: &dyn Fn(u64),
    block_size: usize,
) -> Result<(Digest, ParseStats), std::io::Error> {
    let threads = threads.max(1);
    let block_size = block_size.max(1024);
    let mut digest = Digest::new();
    let mut stats = ParseStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(block_size);
    let mut base: u64 = 0;
    let mut target = block_size;
    let mut eof = false;
    while !eof || !buf.is_empty() {
        // Fill up to `target` bytes.
        while !eof && buf.len() < target {
            let filled = buf.len();
            buf.resize(target, 0);
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    buf.truncate(filled);
                    eof = true;
                }
                Ok(n) => buf.truncate(filled + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(filled),
                Err(e) => return Err(e),
            }
        }
        let end = if eof {
            buf.len()
        } else {
            match last_boundary(parser, &buf) {
                Some(b) if b > 0 => b,
                _ => {
                    // One event fills the whole block: read more before cutting.
                    target = target.saturating_mul(2);
                    continue;
                }
            }
        };
        target = block_size.max(buf.len() - end + block_size / 2);
        let data = &buf[..end];
        let mut cuts = vec![0];
        for k in 1..threads {
            let from = (end / threads * k).max(*cuts.last().unwrap_or(&0));
            cuts.push(parser.next_boundary(data, from).min(end));
        }
        cuts.push(end);
        cuts.dedup();
        let parts: Vec<(Digest, ParseStats)> = if cuts.len() <= 2 {
            vec![digest_chunk(parser, data, base)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = cuts
                    .windows(2)
                    .map(|w| {
                        let (a, b) = (w[0], w[1]);
                        s.spawn(move || digest_chunk(parser, &data[a..b], base + a as u64))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(r) => r,
                        // A parser panic is a bug; re-raise it rather than lose data.
                        Err(p) => std::panic::resume_unwind(p),
                    })
                    .collect()
            })
        };
        for (d, st) in parts {
            digest.merge(d);
            stats += st;
        }
        base += end as u64;
        buf.drain(..end);
        progress(base);
    }
    Ok((digest.finish(), stats))
}

/// The last event boundary in `buf` after its start, searched backwards in growing
/// windows so a normal block costs a look at its last few kilobytes only.
fn last_boundary(parser: &dyn LogParser, buf: &[u8]) -> Option<usize> {
    let mut window = 64 << 10;
    loop {
        let start = buf.len().saturating_sub(window).max(1);
        let mut b = parser.next_boundary(buf, start);
        let mut last = None;
        while b < buf.len() {
            last = Some(b);
            b = parser.next_boundary(buf, b + 1);
        }
        if last.is_some() || start <= 1 {
            return last;
        }
        window = window.saturating_mul(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pt_buckets() {
        assert_eq!(bucket_idx(0.0), 0);
        assert_eq!(bucket_idx(0.000_000_5), 0);
        // 1 s: 284.16 + 0 → 284.
        assert_eq!(bucket_idx(1.0), 284);
        assert!((BASE_LOG - BUCK_SIZE.ln()).abs() < 1e-15);
        assert!((BASE_OFFSET - (1.0 - MIN_BUCK.ln() / BUCK_SIZE.ln()).abs()).abs() < 1e-9);
        assert!((bucket_value(284) - 1.05f64.powi(283) * 1e-6).abs() < 1e-12);
    }

    #[test]
    fn metric_stats() {
        let mut m = Metric::default();
        m.add(0.726052);
        assert_eq!(m.p95(), 0.726052);
        let mut m = Metric::default();
        for i in 1..=20 {
            m.add(f64::from(i) / 10.0);
        }
        assert_eq!(m.count, 20);
        assert!((m.sum - 21.0).abs() < 1e-9);
        // 95%: top 1 value (2.0) set aside → the bucket of 1.9.
        assert!((m.p95() - bucket_value(bucket_idx(1.9))).abs() < 1e-12);
        let mut a = Metric::default();
        let mut b = Metric::default();
        for i in 1..=10 {
            a.add(f64::from(i) / 10.0);
            b.add(f64::from(i + 10) / 10.0);
        }
        a.merge(&b);
        assert_eq!((a.count, a.min, a.max), (m.count, m.min, m.max));
        assert_eq!(a.buckets, m.buckets);
    }

    #[test]
    fn timeline_stays_bounded() {
        let mut t = Timeline::default();
        for m in 0..(Timeline::MAX_BUCKETS as i64 * 5) {
            t.add(m, 1);
        }
        assert!(t.buckets.len() <= Timeline::MAX_BUCKETS);
        assert_eq!(t.step_minutes, 8);
        assert_eq!(
            t.buckets.values().sum::<u64>(),
            Timeline::MAX_BUCKETS as u64 * 5
        );
        let mut a = Timeline::default();
        a.add(3, 2);
        a.merge(&t);
        assert_eq!(a.step_minutes, 8);
        assert_eq!(a.buckets[&0], 10);
    }

    #[test]
    fn bounded_set_caps() {
        let mut s = BoundedSet::default();
        for i in 0..100 {
            s.add(&i.to_string(), 1);
        }
        assert_eq!(s.values.len(), BoundedSet::CAP);
        assert_eq!(s.overflow, 100 - BoundedSet::CAP as u64);
    }
}
