//! FNV-1a (64 bit): a digest that is stable across processes and versions (unlike std's
//! hasher), for what is written into status and compared in a later cycle.

/// The digest of `parts`, each followed by a NUL so that `["ab"]` and `["a", "b"]` differ.
pub fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}
