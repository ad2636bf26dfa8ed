//! Serde helpers that accept what the production server really sends: numbers as
//! strings, `null` where a value is expected, and the odd wrong type (the head
//! version sends a date as `participant_count`). A field that cannot be read falls
//! back to its default instead of losing the whole response.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};

/// The methods every lenient visitor shares: `null`, unit and structures (arrays,
/// objects) read as `$absent`, and `Some(x)` reads as `x`. One place, so the four visitors
/// cannot drift apart on what "absent" means.
macro_rules! absent_for_null_and_structures {
    ($visitor:expr, $absent:expr) => {
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($absent)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any($visitor)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($absent)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($absent)
        }
    };
}

/// An integer from an int, a float with no fraction, a numeric string, or a bool;
/// anything else (including `null`) becomes `None`.
struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, possibly as a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).ok())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok((v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(i64::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        Ok(v.parse::<i64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }))
    }
    absent_for_null_and_structures!(IntVisitor, None);
}

/// `Option<i64>` from anything number-like; see the module doc.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(IntVisitor)
}

/// `i64` from anything number-like, 0 when absent or unreadable.
pub fn i64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(opt_i64(d)?.unwrap_or(0))
}

/// `u32` from anything number-like, clamped into range, 0 when absent or unreadable.
pub fn u32_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(opt_i64(d)?.map(|v| v.clamp(0, u32::MAX as i64) as u32).unwrap_or(0))
}

/// A float from a number or numeric string, `None` otherwise.
struct FloatVisitor;

impl<'de> Visitor<'de> for FloatVisitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, possibly as a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.is_finite().then_some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    absent_for_null_and_structures!(FloatVisitor, None);
}

/// `f64` from anything number-like, 0.0 when absent or unreadable.
pub fn f64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(d.deserialize_option(FloatVisitor)?.unwrap_or(0.0))
}

/// A string from a string, number or bool; `None` for `null` and structures.
struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    absent_for_null_and_structures!(StringVisitor, None);
}

/// `Option<String>` from a string or scalar; `null` and structures become `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(StringVisitor)
}

/// `String` from a string or scalar, empty when absent or unreadable.
pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// A bool from a bool, 0/1, or "true"/"false" strings; `false` otherwise.
struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bool")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(v != 0)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(v != 0)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Ok(v != 0.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }
    absent_for_null_and_structures!(BoolVisitor, false);
}

/// `bool` from anything bool-like, `false` when absent or unreadable.
pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_option(BoolVisitor)
}

/// A list from a JSON array, keeping the elements that read as `T` and skipping the
/// rest (logged); `null` or a non-array becomes empty. One malformed entry never costs
/// the user the whole inbox or conversation.
pub fn vec_skip_bad<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::Deserialize;
    let items = match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Array(items)) => items,
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match T::deserialize(item) {
            Ok(v) => out.push(v),
            Err(e) => tracing::warn!(error = %e, "skipped an unreadable list entry"),
        }
    }
    Ok(out)
}

/// An optional object: anything that does not read as `T` (a string, a number, a
/// malformed object) becomes `None` instead of failing the whole response.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::Deserialize;
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(v @ serde_json::Value::Object(_)) => T::deserialize(v).ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct S {
        #[serde(default, deserialize_with = "super::i64_or_zero")]
        n: i64,
        #[serde(default, deserialize_with = "super::opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "super::bool_or_false")]
        b: bool,
        #[serde(default, deserialize_with = "super::f64_or_zero")]
        f: f64,
    }

    #[test]
    fn accepts_strings_nulls_and_garbage() {
        let s: S = serde_json::from_str(r#"{"n":"42","s":7,"b":"true","f":"1.5"}"#).unwrap();
        assert_eq!((s.n, s.s.as_deref(), s.b, s.f), (42, Some("7"), true, 1.5));
        let s: S = serde_json::from_str(r#"{"n":null,"s":null,"b":null,"f":null}"#).unwrap();
        assert_eq!((s.n, s.s, s.b, s.f), (0, None, false, 0.0));
        let s: S = serde_json::from_str(r#"{"n":"Sat, 28 Nov 2026","s":[1],"b":{},"f":"x"}"#).unwrap();
        assert_eq!((s.n, s.s, s.b, s.f), (0, None, false, 0.0));
        let s: S = serde_json::from_str(r#"{"n":3.0}"#).unwrap();
        assert_eq!(s.n, 3);
        let s: S = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(s.n, 0);
    }

    #[test]
    fn lists_skip_bad_entries() {
        #[derive(Deserialize, Debug)]
        struct L {
            #[serde(default, deserialize_with = "super::vec_skip_bad")]
            v: Vec<S>,
        }
        let l: L = serde_json::from_str(r#"{"v":[{"n":1},7,"x",{"n":"2"},null]}"#).unwrap();
        assert_eq!(l.v.iter().map(|s| s.n).collect::<Vec<_>>(), vec![1, 2]);
        let l: L = serde_json::from_str(r#"{"v":null}"#).unwrap();
        assert!(l.v.is_empty());
        let l: L = serde_json::from_str(r#"{"v":{"n":1}}"#).unwrap();
        assert!(l.v.is_empty());
    }
}
