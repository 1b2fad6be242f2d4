use super::Registry;

pub fn link(_registry: &mut Registry<'_>) {}
