//! Guest memory: the contracts every hostcall repeats, written once.
//!
//! Pointers and lengths arrive as the guest's `u32`s. Every access is bounds-checked: a bad
//! pointer is the guest's mistake and gets INVAL, never a host panic.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::OnceCell;

use super::AbiError;
use crate::status::Status;

/// A guest's linear memory, reached for the duration of one hostcall: borrowed as a slice when
/// the host owns it (wasmi), or through [`ExternalMemory`] when it does not (the browser's own
/// engine runs the guest, and its memory lives outside the host's).
pub struct GuestMemory<'a> {
    backing: Backing<'a>,
}

enum Backing<'a> {
    Slice(&'a mut [u8]),
    /// Reads are copied out range by range and kept until the hostcall ends, so `slice` and
    /// `str` can lend them like borrowed memory.
    External(&'a mut dyn ExternalMemory, Copies),
}

/// Guest memory the host cannot borrow: it copies just the ranges a hostcall touches.
pub trait ExternalMemory {
    fn size_bytes(&self) -> usize;
    /// Copies `out.len()` bytes from `at`; the caller has checked the range.
    fn read(&self, at: u32, out: &mut [u8]);
    /// Copies `data` to `at`; the caller has checked the range.
    fn write(&mut self, at: u32, data: &[u8]);
}

/// Bytes copied out of external memory during one hostcall: an append-only chain, so each copy
/// can be lent for as long as the memory is (only shared borrows of `GuestMemory` are needed).
#[derive(Default)]
struct Copies {
    bytes: OnceCell<Vec<u8>>,
    next: OnceCell<alloc::boxed::Box<Copies>>,
}

impl Copies {
    fn keep(&self, bytes: Vec<u8>) -> &[u8] {
        let mut node = self;
        while node.bytes.get().is_some() {
            node = node.next.get_or_init(Default::default);
        }
        node.bytes.get_or_init(|| bytes)
    }
}

impl<'a> GuestMemory<'a> {
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { backing: Backing::Slice(bytes) }
    }

    pub fn external(memory: &'a mut dyn ExternalMemory) -> Self {
        GuestMemory { backing: Backing::External(memory, Copies::default()) }
    }

    /// The memory's current size: what the guest's heap occupies.
    pub fn size_bytes(&self) -> usize {
        match &self.backing {
            Backing::Slice(bytes) => bytes.len(),
            Backing::External(memory, _) => memory.size_bytes(),
        }
    }

    fn range(&self, ptr: u32, len: u32) -> Result<core::ops::Range<usize>, AbiError> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Status::Inval)?;
        if end > self.size_bytes() {
            return Err(Status::Inval.into());
        }
        Ok(start..end)
    }

    /// INVAL unless `ptr..ptr+len` lies inside the memory.
    pub fn check(&self, ptr: u32, len: u32) -> Result<(), AbiError> {
        self.range(ptr, len).map(drop)
    }

    /// The guest bytes at `ptr..ptr+len`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        let range = self.range(ptr, len)?;
        match &self.backing {
            Backing::Slice(bytes) => Ok(&bytes[range]),
            Backing::External(memory, copies) => {
                let mut out = vec![0; range.len()];
                memory.read(ptr, &mut out);
                Ok(copies.keep(out))
            }
        }
    }

    pub fn bytes(&self, ptr: u32, len: u32) -> Result<Vec<u8>, AbiError> {
        Ok(self.slice(ptr, len)?.to_vec())
    }

    /// A UTF-8 string: INVAL when it is not.
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, AbiError> {
        core::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Status::Inval.into())
    }

    pub fn string(&self, ptr: u32, len: u32) -> Result<String, AbiError> {
        self.str(ptr, len).map(String::from)
    }

    pub fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), AbiError> {
        let range = self.range(ptr, u32::try_from(data.len()).map_err(|_| Status::Inval)?)?;
        match &mut self.backing {
            Backing::Slice(bytes) => bytes[range].copy_from_slice(data),
            Backing::External(memory, _) => memory.write(ptr, data),
        }
        Ok(())
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, AbiError> {
        Ok(u32::from_le_bytes(self.slice(ptr, 4)?.try_into().unwrap()))
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, AbiError> {
        Ok(u64::from_le_bytes(self.slice(ptr, 8)?.try_into().unwrap()))
    }

    pub fn write_u16(&mut self, ptr: u32, value: u16) -> Result<(), AbiError> {
        self.write(ptr, &value.to_le_bytes())
    }

    pub fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), AbiError> {
        self.write(ptr, &value.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, value: u64) -> Result<(), AbiError> {
        self.write(ptr, &value.to_le_bytes())
    }

    pub fn write_i64(&mut self, ptr: u32, value: i64) -> Result<(), AbiError> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Copies `value` into the guest buffer `buf[..cap]` and its length into `nwritten`.
    /// When it does not fit, nothing is copied, `nwritten` gets the length needed and the
    /// result is BUFLEN: the SDKs retry with a buffer that large.
    pub fn write_fitting(&mut self, buf: u32, cap: u32, value: &[u8], nwritten: u32) -> Result<(), AbiError> {
        if value.len() > cap as usize {
            self.write_u32(nwritten, value.len() as u32)?;
            return Err(Status::Buflen.into());
        }
        self.write(buf, value)?;
        self.write_u32(nwritten, value.len() as u32)
    }

    /// The paging protocol of multi-value getters (`header_names_get`, `header_values_get`, …).
    ///
    /// Starting at item `cursor`, writes as many whole items as fit, each followed by `term`.
    /// `ending_cursor` gets the index of the first item not written, or -1 when all were.
    /// When not even the first item fits: BUFLEN, with its size (terminator included) in
    /// `nwritten`. With no items at or after `cursor`: nothing written, `nwritten` 0, -1.
    pub fn write_multi<'v>(
        &mut self,
        (buf, cap): (u32, u32),
        items: impl Iterator<Item = &'v [u8]>,
        cursor: u32,
        term: u8,
        (ending_cursor, nwritten): (u32, u32),
    ) -> Result<(), AbiError> {
        let mut out: Vec<u8> = Vec::new();
        let mut next: i64 = -1;
        for (index, item) in items.enumerate().skip(cursor as usize) {
            if out.len() + item.len() + 1 > cap as usize {
                if out.is_empty() {
                    self.write_u32(nwritten, item.len() as u32 + 1)?;
                    return Err(Status::Buflen.into());
                }
                next = index as i64;
                break;
            }
            out.extend_from_slice(item);
            out.push(term);
        }
        self.write(buf, &out)?;
        self.write_i64(ending_cursor, next)?;
        self.write_u32(nwritten, out.len() as u32)
    }
}
