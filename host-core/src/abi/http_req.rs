use super::Registry;

pub fn link(_registry: &mut Registry<'_>) {}
pub fn mock_response(_m: &crate::config::MockResponse) -> crate::io::BackendResponse { todo!() }
