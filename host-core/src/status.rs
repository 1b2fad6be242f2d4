//! The status codes hostcalls return: `fastly-shared`'s `FastlyStatus` and WASI's errno.

/// `FastlyStatus`, as the SDKs define it in `fastly-shared`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Status {
    Ok = 0,
    /// Generic error; the hostcall's documentation says when.
    Error = 1,
    /// An argument is invalid: bad UTF-8, a malformed header, an out-of-bounds pointer.
    Inval = 2,
    /// A handle is unknown or of the wrong kind.
    Badf = 3,
    /// The output buffer is too small; `nwritten` holds the size needed.
    Buflen = 4,
    /// The host does not implement this hostcall or option.
    Unsupported = 5,
    Badalign = 6,
    HttpInvalid = 7,
    HttpUser = 8,
    HttpIncomplete = 9,
    /// No value: the key, header or item is absent.
    None = 10,
    HttpHeadTooLarge = 11,
    HttpInvalidStatus = 12,
    LimitExceeded = 13,
    Again = 14,
}

/// WASI preview1 errno values the host returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    Success = 0,
    Acces = 2,
    Badf = 8,
    Fault = 21,
    Inval = 28,
    Io = 29,
    Isdir = 31,
    Nametoolong = 37,
    Noent = 44,
    Nosys = 52,
    Notcapable = 76,
    Notdir = 54,
    Notsup = 58,
    Overflow = 61,
    Perm = 63,
    Spipe = 70,
}
