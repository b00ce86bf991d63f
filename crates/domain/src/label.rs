//! The integration's label.

use crate::validation::FieldError;

/// A label: 1 to 255 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(FieldError::new("label", "must not be empty"));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "label",
                "must be at most 255 characters long",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "label",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(Label::parse("  My S3 ").map(|l| l.0), Ok("My S3".into()));
        assert!(Label::parse("   ").is_err());
        assert!(Label::parse(&"é".repeat(255)).is_ok());
        assert!(Label::parse(&"é".repeat(256)).is_err());
        assert!(Label::parse("a\u{0}b").is_err());
    }
}
