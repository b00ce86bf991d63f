//! Validation errors that name the JSON field they are about.

use std::fmt;

/// One problem with one field. `field` is the JSON path as the client sent it
/// (`label`, `credentials.accountId`); `message` says what is wrong and never repeats a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in one request (validation does not stop at the first one), up to
/// [`ValidationErrors::MAX`]: past it problems are only counted, so a hostile body with
/// thousands of bad fields gets a short answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>, usize);

impl ValidationErrors {
    /// Most problems kept (and reported) per request.
    pub const MAX: usize = 50;

    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)], 0)
    }

    pub fn push(&mut self, error: FieldError) {
        if self.0.len() < Self::MAX {
            self.0.push(error);
        } else {
            self.1 += 1;
        }
    }

    /// Problems found but not kept (over [`ValidationErrors::MAX`]).
    pub fn omitted(&self) -> usize {
        self.1
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(FieldError::new(field, message));
    }

    pub fn extend(&mut self, other: ValidationErrors) {
        let omitted = other.1;
        for e in other.0 {
            self.push(e);
        }
        self.1 += omitted;
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1 == 0
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error], 0)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            e.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_capped_but_counted() {
        let mut e = ValidationErrors::new();
        for i in 0..6000 {
            e.add(format!("f{i}"), "is not a field of this request");
        }
        assert_eq!(e.errors().len(), ValidationErrors::MAX);
        assert_eq!(e.omitted(), 6000 - ValidationErrors::MAX);
        let mut outer = ValidationErrors::single("label", "is required");
        outer.extend(e);
        assert_eq!(outer.errors().len(), ValidationErrors::MAX);
        assert_eq!(outer.omitted(), 6000 - ValidationErrors::MAX + 1);
    }
}
