//! JSON tables: an array of objects whose fields are the CSV columns. Turns the text into the
//! rows of a [`Table`] so that JSON and CSV share one set of getters and messages.
//!
//! serde_json does not tell where a value sits once it is parsed, so the text is parsed twice:
//! once by serde_json (which checks the syntax and reports errors with line and column), then
//! by a small scanner over the now known-valid text that records the line of each object and of
//! each of its keys. It must not accept anything serde_json refuses.

use super::table::{ParsedRow, Table};
use crate::error::{InputProblem, InputProblems};
use serde_json::{Map, Value};

/// Parses a JSON table. Values may be strings, numbers, `true`/`false`, `null` (empty) or a
/// list of those (joined with `;`, the CSV list separator).
///
/// # Errors
/// A syntax error or a document that is not an array of objects (with its line), or a
/// missing required field.
pub fn table<R: std::io::Read>(file: &str, text: &str, required: &[&str]) -> Result<Table<R>, InputProblems> {
    let objects: Vec<Map<String, Value>> = serde_json::from_str(text).map_err(|e| {
        InputProblems(vec![InputProblem::new(
            file,
            e.line() as u64,
            "",
            "",
            format!("not a JSON array of objects: {e}"),
        )])
    })?;
    let positions = scan(text);
    let mut header: Vec<(String, u64)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for object in &positions {
        for (key, line) in &object.keys {
            if !index.contains_key(key) {
                index.insert(key.clone(), header.len());
                header.push((key.clone(), *line));
            }
        }
    }
    let mut rows = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        // The scanner sees exactly the objects serde_json saw; the fallback only guards a bug.
        let place = positions.get(i);
        let line = place.map_or(0, |p| p.line);
        let mut values = vec![String::new(); header.len()];
        let mut field_lines = vec![line; header.len()];
        let mut problem = None;
        // serde_json keeps the last of two equal keys and drops the first without a word; a
        // CSV header with a column twice is refused, and so is a field twice in an object.
        let mut seen = std::collections::HashSet::new();
        if let Some((key, key_line)) =
            place.and_then(|p| p.keys.iter().find(|(key, _)| !seen.insert(key.as_str())))
        {
            let value = object.get(key).map(Value::to_string).unwrap_or_default();
            problem =
                Some(InputProblem::new(file, *key_line, key, value, "field appears twice in this object"));
        }
        for (key, value) in object {
            let Some(&column) = index.get(key) else { continue };
            let key_line =
                place.and_then(|p| p.keys.iter().find(|(k, _)| k == key)).map_or(line, |(_, l)| *l);
            field_lines[column] = key_line;
            match scalar_text(value) {
                Some(text) => values[column] = text,
                None => {
                    problem.get_or_insert_with(|| {
                        InputProblem::new(
                            file,
                            key_line,
                            key,
                            value.to_string(),
                            "expected a string, a number, true/false, null or a list of those",
                        )
                    });
                }
            }
        }
        let record = values.iter().map(|v| v.trim()).collect::<csv::StringRecord>();
        rows.push(ParsedRow { line, record, field_lines, problem });
    }
    Table::from_rows(file, header, rows, required)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Value::Array(_) | Value::Object(_) => None,
                    other => scalar_text(other),
                })
                .collect();
            parts.map(|p| p.join(";"))
        }
        Value::Object(_) => None,
    }
}

/// Where one object of the array starts, and where each of its keys is.
struct ObjectPosition {
    line: u64,
    keys: Vec<(String, u64)>,
}

/// Finds the objects at depth 1 of a valid JSON array and the keys at their top level.
fn scan(text: &str) -> Vec<ObjectPosition> {
    let bytes = text.as_bytes();
    let mut objects: Vec<ObjectPosition> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1u64;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'[' | b'{' => {
                depth += 1;
                if depth == 2 && bytes[i] == b'{' {
                    objects.push(ObjectPosition { line, keys: Vec::new() });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                if depth == 2 {
                    let next = bytes[end..].iter().find(|b| !b.is_ascii_whitespace());
                    if next == Some(&b':') {
                        let key: String = serde_json::from_str(&text[start..end]).unwrap_or_default();
                        if let Some(object) = objects.last_mut() {
                            object.keys.push((key, line));
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_lines_are_those_of_the_text() {
        let text = "[\n {\"id\": \"a\",\n  \"n\": 5, \"l\": [\"x\", 2]},\n {\"id\": \"b\", \"n\": null}\n]";
        let t = table::<&[u8]>("t.json", text, &["id"]).unwrap();
        let (rows, problems) = t.for_each_row(|r| {
            Ok((r.text("id")?.to_string(), r.opt_text("n").map(str::to_string), r.problem("n", "x").line))
        });
        assert!(problems.is_empty());
        assert_eq!(rows[0].1, ("a".to_string(), Some("5".to_string()), 3));
        assert_eq!(rows[1].1, ("b".to_string(), None, 4));
    }

    #[test]
    fn syntax_errors_and_nested_values_name_their_line() {
        let err = table::<&[u8]>("t.json", "[\n{\"id\": \"a\",\n}]", &["id"]).err().unwrap();
        assert_eq!(err.0[0].line, 3, "{err}");
        let err = table::<&[u8]>("t.json", "{\"id\": 1}", &["id"]).err().unwrap();
        assert_eq!(err.0[0].line, 1, "{err}");
        let t = table::<&[u8]>("t.json", "[\n{\"id\": \"a\",\n\"x\": {\"y\": 1}}]", &["id"]).unwrap();
        let (_, problems) = t.for_each_row(|_| Ok(()));
        assert_eq!((problems[0].line, problems[0].column.as_str()), (3, "x"));
    }

    #[test]
    fn escaped_quotes_and_brackets_in_strings_do_not_confuse_the_scanner() {
        let text = r#"[{"id": "a\"]}{", "k": "v"}, {"id": "b"}]"#;
        let positions = scan(text);
        assert_eq!(positions.len(), 2);
        assert_eq!(positions[0].keys.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["id", "k"]);
    }

    /// serde_json keeps the last of two equal keys, so `"municipality": 851, ...,
    /// "municipality": 101` read as København without a word; a CSV header with a column twice
    /// is refused, and so is this.
    #[test]
    fn a_field_twice_in_one_object_is_refused_naming_its_second_line() {
        let text = "[\n{\"id\": \"a\",\n \"n\": 1,\n \"n\": 2},\n{\"id\": \"b\", \"n\": 3}]";
        let t = table::<&[u8]>("t.json", text, &["id"]).unwrap();
        let (rows, problems) = t.for_each_row(|r| Ok(r.text("id")?.to_string()));
        assert_eq!(rows.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].column.as_str()), (4, "n"), "{}", problems[0]);
        assert!(problems[0].reason.contains("twice"), "{}", problems[0]);
    }
}
