//! One parser for every timestamp form the Healing Space servers send.
//!
//! Production sends RFC 1123 dates in some places (`Sat, 28 Nov 2026 19:26:24 GMT`),
//! ISO 8601 with or without a zone in others, SQLite-style `YYYY-MM-DD HH:MM:SS[.ffffff]`,
//! and unix seconds (int or float) for the pet. Everything is normalised to UTC here;
//! a zone-less form is UTC (the contract says so).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Parse any timestamp form the contract lists into UTC. `None` when the text is
/// none of them (callers keep the message and show no time rather than failing).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    // ISO or SQLite form without a zone, with or without fractional seconds.
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    // ISO with a zone but a space instead of `T`, or a `+0000` offset.
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    if let Ok(secs) = text.parse::<f64>() {
        return from_unix_seconds(secs);
    }
    None
}

/// Unix seconds (possibly fractional) to UTC; `None` outside chrono's range or for NaN.
pub fn from_unix_seconds(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
    if whole < i64::MIN as f64 || whole > i64::MAX as f64 {
        return None;
    }
    Utc.timestamp_opt(whole as i64, nanos).single()
}

/// The production (feb5) wire form, RFC 1123: `Sat, 28 Nov 2026 19:26:24 GMT`.
pub fn format_rfc1123(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A point in time as it travels in JSON: read from any form the contract lists,
/// written in the RFC 1123 form the reference server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Now, truncated to whole seconds (the resolution of the RFC 1123 form).
    pub fn now() -> Self {
        let now = Utc::now();
        Timestamp(Utc.timestamp_opt(now.timestamp(), 0).single().unwrap_or(now))
    }

    /// The instant as UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_rfc1123(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc1123(self.0))
    }
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Option<Timestamp>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp string or unix seconds")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(parse_timestamp(v).map(Timestamp))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(from_unix_seconds(v as f64).map(Timestamp))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(from_unix_seconds(v as f64).map(Timestamp))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(from_unix_seconds(v).map(Timestamp))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Serde helper for `Option<Timestamp>` fields: any form, `null`, or garbage (→ `None`,
/// so one odd field never loses a whole response).
pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    d.deserialize_option(TimestampVisitor)
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(TimestampVisitor)? {
            Some(ts) => Ok(ts),
            None => Err(de::Error::custom("unrecognised timestamp")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn ymdhms(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }

    #[test]
    fn rfc1123() {
        let t = parse_timestamp("Sat, 28 Nov 2026 19:26:24 GMT").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:26:24");
        let t = parse_timestamp("Thu, 05 Feb 2026 16:30:00 GMT").unwrap();
        assert_eq!(ymdhms(t), "2026-02-05 16:30:00");
    }

    #[test]
    fn iso_with_zone_and_micros() {
        let t = parse_timestamp("2026-11-28T19:27:25.543660Z").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:27:25");
        assert_eq!(t.nanosecond(), 543_660_000);
        let t = parse_timestamp("2026-11-28T21:27:25+02:00").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:27:25");
    }

    #[test]
    fn iso_without_zone_is_utc() {
        let t = parse_timestamp("2026-11-28T19:35:56.802116").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:35:56");
        let t = parse_timestamp("2026-11-28T19:35:56").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:35:56");
    }

    #[test]
    fn sqlite_form() {
        let t = parse_timestamp("2026-11-28 19:29:08.399761").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:29:08");
        let t = parse_timestamp("2026-11-28 19:29:08").unwrap();
        assert_eq!(ymdhms(t), "2026-11-28 19:29:08");
    }

    #[test]
    fn unix_seconds_int_float_and_string() {
        let t = parse_timestamp("1795894900").unwrap();
        assert_eq!(t.timestamp(), 1_795_894_900);
        let t = parse_timestamp("1795894900.5").unwrap();
        assert_eq!(t.timestamp_millis(), 1_795_894_900_500);
        let v: Timestamp = serde_json::from_str("1795894900.0").unwrap();
        assert_eq!(v.0.timestamp(), 1_795_894_900);
        let v: Timestamp = serde_json::from_str("1795894900").unwrap();
        assert_eq!(v.0.timestamp(), 1_795_894_900);
    }

    #[test]
    fn garbage_is_none_not_panic() {
        for bad in ["", "yesterday", "2026-13-45", "NaN", "inf", "Sat, 99 Nov 2026", "1e400"] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
        assert!(from_unix_seconds(f64::NAN).is_none());
        assert!(from_unix_seconds(1e300).is_none());
    }

    #[test]
    fn round_trip_rfc1123() {
        let t = parse_timestamp("2026-11-28T19:26:24Z").unwrap();
        assert_eq!(format_rfc1123(t), "Sat, 28 Nov 2026 19:26:24 GMT");
        let json = serde_json::to_string(&Timestamp(t)).unwrap();
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, t);
    }

    #[test]
    fn lenient_field() {
        #[derive(Deserialize)]
        struct S {
            #[serde(default, deserialize_with = "lenient")]
            at: Option<Timestamp>,
        }
        let s: S = serde_json::from_str(r#"{"at":null}"#).unwrap();
        assert!(s.at.is_none());
        let s: S = serde_json::from_str(r#"{"at":"nonsense"}"#).unwrap();
        assert!(s.at.is_none());
        let s: S = serde_json::from_str(r#"{"at":{"x":1}}"#).unwrap();
        assert!(s.at.is_none());
        let s: S = serde_json::from_str(r#"{}"#).unwrap();
        assert!(s.at.is_none());
        let s: S = serde_json::from_str(r#"{"at":"Sat, 28 Nov 2026 19:26:24 GMT"}"#).unwrap();
        assert!(s.at.is_some());
    }
}
