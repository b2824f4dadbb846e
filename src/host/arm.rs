//! ARM JSON templates.
use std::path::Path;

use super::{HostError, HostScan};

pub fn scan(
    _path: &Path,
    _source: &str,
    _load: &dyn Fn(&Path) -> Option<String>,
) -> Result<HostScan, HostError> {
    Ok(HostScan::default())
}
