//! A minimal JSON value and writer (the CLI's only output format besides text).

use std::fmt::{self, Write as _};

/// A JSON value. Objects keep insertion order, as ndctl's output does.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An empty object.
    pub fn obj() -> Self {
        Self::Obj(Vec::new())
    }

    /// Adds `key: value` to an object (no-op on other values).
    pub fn set(&mut self, key: &str, value: impl Into<Json>) -> &mut Self {
        if let Self::Obj(fields) = self {
            fields.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Builder form of [`Json::set`].
    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.set(key, value);
        self
    }

    /// Pretty-printed with two-space indentation.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0)
            .expect("writing to a String cannot fail");
        out
    }

    fn write(&self, out: &mut String, depth: usize) -> fmt::Result {
        let pad = |d: usize| "  ".repeat(d);
        match self {
            Self::Null => out.write_str("null"),
            Self::Bool(b) => write!(out, "{b}"),
            Self::U64(n) => write!(out, "{n}"),
            Self::I64(n) => write!(out, "{n}"),
            Self::Str(s) => write_str(out, s),
            Self::Arr(items) if items.is_empty() => out.write_str("[]"),
            Self::Arr(items) => {
                out.write_str("[\n")?;
                for (i, item) in items.iter().enumerate() {
                    out.write_str(&pad(depth + 1))?;
                    item.write(out, depth + 1)?;
                    out.write_str(if i + 1 < items.len() { ",\n" } else { "\n" })?;
                }
                write!(out, "{}]", pad(depth))
            }
            Self::Obj(fields) if fields.is_empty() => out.write_str("{}"),
            Self::Obj(fields) => {
                out.write_str("{\n")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.write_str(&pad(depth + 1))?;
                    write_str(out, k)?;
                    out.write_str(": ")?;
                    v.write(out, depth + 1)?;
                    out.write_str(if i + 1 < fields.len() { ",\n" } else { "\n" })?;
                }
                write!(out, "{}}}", pad(depth))
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

impl From<bool> for Json {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<u64> for Json {
    fn from(v: u64) -> Self {
        Self::U64(v)
    }
}
impl From<u32> for Json {
    fn from(v: u32) -> Self {
        Self::U64(v.into())
    }
}
impl From<u16> for Json {
    fn from(v: u16) -> Self {
        Self::U64(v.into())
    }
}
impl From<i64> for Json {
    fn from(v: i64) -> Self {
        Self::I64(v)
    }
}
impl From<i32> for Json {
    fn from(v: i32) -> Self {
        Self::I64(v.into())
    }
}
impl From<&str> for Json {
    fn from(v: &str) -> Self {
        Self::Str(v.to_owned())
    }
}
impl From<String> for Json {
    fn from(v: String) -> Self {
        Self::Str(v)
    }
}
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Self {
        Self::Arr(v.into_iter().map(Into::into).collect())
    }
}
