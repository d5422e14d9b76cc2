//! The few questions only the running kernel can answer (clock state, clock tick rate,
//! page size). All unsafe code of the crate lives here, one small function per call.

/// The kernel's view of clock synchronisation: (synchronised, max error in µs).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn kernel_time_sync() -> Option<(bool, i64)> {
    // SAFETY: `timex` is a plain C struct for which all-zero bytes are a valid value;
    // with `modes == 0` adjtimex only reads the kernel's state into the struct we own,
    // and the pointer is valid for the duration of the call.
    let (state, tx) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        tx.modes = 0;
        let state = libc::adjtimex(&mut tx);
        (state, tx)
    };
    if state < 0 {
        return None;
    }
    let synced = state != libc::TIME_ERROR && (tx.status & libc::STA_UNSYNC) == 0;
    // `c_long` is i32 on 32-bit targets, so the conversion is not useless everywhere.
    #[allow(clippy::useless_conversion)]
    let max_error = i64::from(tx.maxerror);
    Some((synced, max_error))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn kernel_time_sync() -> Option<(bool, i64)> {
    None
}

/// Clock ticks per second (USER_HZ) used by /proc/[pid]/stat; 100 when unknown.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn clock_ticks() -> u64 {
    // SAFETY: sysconf takes an integer and touches no memory of ours.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(v).ok().filter(|&v| v > 0).unwrap_or(100)
}

#[cfg(not(unix))]
pub(crate) fn clock_ticks() -> u64 {
    100
}

/// Bytes per memory page (for RSS in pages); 4096 when unknown.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn page_size() -> u64 {
    // SAFETY: as above.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(v).ok().filter(|&v| v > 0).unwrap_or(4096)
}

#[cfg(not(unix))]
pub(crate) fn page_size() -> u64 {
    4096
}
