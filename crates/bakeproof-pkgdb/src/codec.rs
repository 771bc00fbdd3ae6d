//! The one bounds-checked byte reader of the binary formats (rpm's Berkeley
//! DB pages, NDB slots and blobs, header blobs).
//!
//! Modelled on rustls' `msgs/codec.rs`: a [`Reader`] over a borrowed slice
//! with a cursor; every read checks the length first and returns a typed
//! [`Invalid`] instead of panicking or reading past the end, so a parser
//! built on it cannot index out of bounds whatever the input says. The
//! formats are also addressed by offset (a BDB page's fields sit at fixed
//! offsets, a header entry points into its data store), so a reader can be
//! placed anywhere in its input with [`Reader::at`] and cut to a window with
//! [`Reader::sub`]; offsets in errors are relative to the reader's input.

use std::fmt;

/// Why a read was refused: the input is shorter than the format says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Invalid {
    /// `wanted` bytes were needed at offset `at`, only `left` are there.
    #[error("{wanted} bytes needed at offset {at}, only {left} there")]
    Truncated {
        at: usize,
        wanted: usize,
        left: usize,
    },
    /// Offset `at` lies past the end of the `len`-byte input.
    #[error("offset {at} is past the end of the {len} bytes")]
    Offset { at: usize, len: usize },
}

/// Byte order of a format's integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

/// A cursor over `&[u8]`; see the module documentation.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    cursor: usize,
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("len", &self.buf.len())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, cursor: 0 }
    }

    /// A reader over the same input placed at offset `at` (`at == len` is
    /// allowed: an empty rest).
    #[inline]
    pub(crate) fn at(&self, at: usize) -> Result<Reader<'a>, Invalid> {
        if at > self.buf.len() {
            return Err(Invalid::Offset {
                at,
                len: self.buf.len(),
            });
        }
        Ok(Reader {
            buf: self.buf,
            cursor: at,
        })
    }

    /// The whole input.
    #[inline]
    pub(crate) fn input(&self) -> &'a [u8] {
        self.buf
    }

    /// Offset of the cursor.
    #[inline]
    pub(crate) fn used(&self) -> usize {
        self.cursor
    }

    /// Bytes after the cursor.
    #[inline]
    pub(crate) fn left(&self) -> usize {
        self.buf.len() - self.cursor
    }

    /// Whether any byte is left.
    #[inline]
    pub(crate) fn any_left(&self) -> bool {
        self.cursor < self.buf.len()
    }

    /// The next `n` bytes, moving past them.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Invalid> {
        if n > self.left() {
            return Err(Invalid::Truncated {
                at: self.cursor,
                wanted: n,
                left: self.left(),
            });
        }
        let s = &self.buf[self.cursor..self.cursor + n];
        self.cursor += n;
        Ok(s)
    }

    /// A reader over the next `n` bytes (offsets in it start at 0), moving
    /// this one past them.
    #[inline]
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>, Invalid> {
        self.take(n).map(Reader::new)
    }

    /// Everything after the cursor, moving to the end.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.cursor..];
        self.cursor = self.buf.len();
        s
    }

    /// Moves past `n` bytes.
    #[inline]
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), Invalid> {
        self.take(n).map(drop)
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Invalid> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, Invalid> {
        self.array::<1>().map(|[b]| b)
    }

    #[inline]
    pub(crate) fn u16(&mut self, e: Endian) -> Result<u16, Invalid> {
        let a = self.array()?;
        Ok(match e {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    #[inline]
    pub(crate) fn u32(&mut self, e: Endian) -> Result<u32, Invalid> {
        let a = self.array()?;
        Ok(match e {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    #[inline]
    pub(crate) fn u32_le(&mut self) -> Result<u32, Invalid> {
        self.u32(Endian::Little)
    }

    #[inline]
    pub(crate) fn u32_be(&mut self) -> Result<u32, Invalid> {
        self.u32(Endian::Big)
    }

    /// `n` bytes at offset `at`, the cursor unmoved.
    #[inline]
    pub(crate) fn bytes_at(&self, at: usize, n: usize) -> Result<&'a [u8], Invalid> {
        self.at(at)?.take(n)
    }

    /// The `u8` at offset `at`, the cursor unmoved.
    #[inline]
    pub(crate) fn u8_at(&self, at: usize) -> Result<u8, Invalid> {
        self.at(at)?.u8()
    }

    /// The `u16` at offset `at`, the cursor unmoved.
    #[inline]
    pub(crate) fn u16_at(&self, at: usize, e: Endian) -> Result<u16, Invalid> {
        self.at(at)?.u16(e)
    }

    /// The `u32` at offset `at`, the cursor unmoved.
    #[inline]
    pub(crate) fn u32_at(&self, at: usize, e: Endian) -> Result<u32, Invalid> {
        self.at(at)?.u32(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses() {
        let mut r = Reader::new(&[1, 0, 0, 0, 2, 0xff]);
        assert_eq!(r.u32_le(), Ok(1));
        assert_eq!(r.u8(), Ok(2));
        assert_eq!(r.left(), 1);
        assert_eq!(
            r.u16(Endian::Big),
            Err(Invalid::Truncated {
                at: 5,
                wanted: 2,
                left: 1
            })
        );
        // A refused read does not move the cursor.
        assert_eq!(r.used(), 5);
        assert_eq!(r.rest(), &[0xff]);
        assert!(!r.any_left());
        assert_eq!(r.take(0), Ok(&[][..]));
        let r = Reader::new(&[0, 0, 1, 0]);
        assert_eq!(r.u16_at(2, Endian::Little), Ok(1));
        assert_eq!(r.u32_at(0, Endian::Big), Ok(256));
        assert_eq!(
            r.u32_at(1, Endian::Big).map_err(|e| e.to_string()),
            Err("4 bytes needed at offset 1, only 3 there".into())
        );
        assert_eq!(r.at(5).err(), Some(Invalid::Offset { at: 5, len: 4 }));
        assert!(r.bytes_at(usize::MAX, 2).is_err());
        assert!(r.at(4).is_ok_and(|r| !r.any_left()));
        let mut outer = Reader::new(b"abcdef");
        outer.skip(1).unwrap();
        let mut inner = outer.sub(3).unwrap();
        assert_eq!(inner.used(), 0);
        assert_eq!(inner.rest(), b"bcd");
        assert_eq!(outer.rest(), b"ef");
        assert!(Reader::new(b"ab").sub(3).is_err());
    }
}
