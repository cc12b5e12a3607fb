//! What every page the binary writes shares: the language a page is in and escaping text for
//! HTML. The morning report, the model card (`cli/`) and the service's pages (`server/`) all
//! use it; it holds no page of its own.

/// The language of a page or report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Danish.
    Da,
    /// English.
    En,
}

impl Lang {
    /// `en` is English; anything else Danish (the users are Danish job centres).
    pub fn from_code(code: Option<&str>) -> Lang {
        if code == Some("en") { Lang::En } else { Lang::Da }
    }

    /// The Danish or the English text, by the language.
    pub fn t<'a>(self, da: &'a str, en: &'a str) -> &'a str {
        if self == Lang::Da { da } else { en }
    }
}

/// Escapes text for HTML element content and double-quoted or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Sådan æøå"), "Sådan æøå");
    }

    #[test]
    fn only_en_is_english() {
        assert_eq!(Lang::from_code(Some("en")), Lang::En);
        assert_eq!(Lang::from_code(Some("da")), Lang::Da);
        assert_eq!(Lang::from_code(Some("EN")), Lang::Da);
        assert_eq!(Lang::from_code(None), Lang::Da);
        assert_eq!(Lang::En.t("ja", "yes"), "yes");
    }
}
