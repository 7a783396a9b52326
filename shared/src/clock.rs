//! The one reading of the clock: epoch milliseconds and RFC 3339 (UTC), the
//! forms every record, lease and event uses.

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Now as RFC 3339 (UTC), the format of every timestamp we store.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("UTC timestamps format")
}

/// Epoch milliseconds as RFC 3339 (UTC).
pub fn rfc3339_of_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// RFC 3339 as epoch milliseconds (`None`: not RFC 3339).
pub fn ms_of_rfc3339(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_readings_agree() {
        let ms = super::now_ms();
        let text = super::now_rfc3339();
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let diff = (parsed.unix_timestamp_nanos() / 1_000_000) as i64 - ms;
        assert!(diff.abs() < 5_000, "{diff}");
    }
}
