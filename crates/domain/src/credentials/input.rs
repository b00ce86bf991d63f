//! Credentials as the client sent them: a map from field name to a JSON-ish scalar. Strings
//! are held as secrets from the moment they are parsed, whether or not the field is secret.

use secrecy::SecretString;
use std::collections::BTreeMap;

/// One value of the `credentials` object. Only strings are valid field values; the other kinds
/// are kept (without their content) so that validation can say "must be a string".
#[derive(Clone)]
pub enum InputValue {
    Text(SecretString),
    Null,
    Bool,
    Number,
    Array,
    Object,
}

impl InputValue {
    pub fn text(value: impl Into<String>) -> Self {
        InputValue::Text(SecretString::from(value.into()))
    }

    /// The JSON kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            InputValue::Text(_) => "a string",
            InputValue::Null => "null",
            InputValue::Bool => "a boolean",
            InputValue::Number => "a number",
            InputValue::Array => "an array",
            InputValue::Object => "an object",
        }
    }
}

impl std::fmt::Debug for InputValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputValue::Text(_) => f.write_str("Text([REDACTED])"),
            other => f.write_str(other.kind()),
        }
    }
}

/// The `credentials` object of a request.
#[derive(Clone, Debug, Default)]
pub struct CredentialsInput(BTreeMap<String, InputValue>);

impl CredentialsInput {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: InputValue) {
        self.0.insert(name.into(), value);
    }

    /// Builder-style insert of a string value (handy in tests and embedders).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.insert(name, InputValue::text(value));
        self
    }

    pub fn get(&self, name: &str) -> Option<&InputValue> {
        self.0.get(name)
    }

    pub fn remove(&mut self, name: &str) -> Option<InputValue> {
        self.0.remove(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `self` laid over `base`: every field given here replaces the one in `base`.
    pub fn over(self, mut base: CredentialsInput) -> CredentialsInput {
        base.0.extend(self.0);
        base
    }
}

impl FromIterator<(String, InputValue)> for CredentialsInput {
    fn from_iter<T: IntoIterator<Item = (String, InputValue)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}
