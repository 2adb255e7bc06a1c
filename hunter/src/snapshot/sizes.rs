//! [`Sizes`]: a column of byte sizes, one per node, in 4 bytes each. Nearly every object is far
//! below 4 GiB, so sizes that do not fit in 32 bits live in a side table instead of making every
//! entry 8 bytes: millions of nodes, a handful of giants (a huge ArrayBuffer, the root's total).

use super::FastMap;

#[derive(Default, Clone)]
pub(crate) struct Sizes {
    small: Vec<u32>,
    /// Sizes of `u32::MAX` or more, by node ordinal; `small` holds `u32::MAX` for them.
    large: FastMap<u32, u64>,
}

impl Sizes {
    pub fn reserve_exact(&mut self, n: usize) {
        self.small.reserve_exact(n);
    }
    #[inline]
    pub fn push(&mut self, size: u64) {
        match u32::try_from(size) {
            Ok(small) if small != u32::MAX => self.small.push(small),
            _ => {
                self.large.insert(self.small.len() as u32, size);
                self.small.push(u32::MAX);
            }
        }
    }
    /// A copy whose column is `column`, cleared (a spare column's memory, already faulted in).
    pub fn copy_into(&self, mut column: Vec<u32>) -> Self {
        column.clear();
        column.extend_from_slice(&self.small);
        Self {
            small: column,
            large: self.large.clone(),
        }
    }
    #[inline]
    pub fn get(&self, n: u32) -> u64 {
        match self.small[n as usize] {
            u32::MAX => self.large.get(&n).copied().unwrap_or(u32::MAX as u64),
            small => small as u64,
        }
    }
    #[inline]
    pub fn set(&mut self, n: u32, size: u64) {
        match u32::try_from(size) {
            Ok(small) if small != u32::MAX => {
                if self.small[n as usize] == u32::MAX {
                    self.large.remove(&n);
                }
                self.small[n as usize] = small;
            }
            _ => {
                self.large.insert(n, size);
                self.small[n as usize] = u32::MAX;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sizes;

    #[test]
    fn sizes_past_four_gib_survive() {
        let mut sizes = Sizes::default();
        sizes.push(16);
        sizes.push(u32::MAX as u64);
        sizes.push(5 << 32);
        sizes.push(0);
        assert_eq!(
            (0..4).map(|n| sizes.get(n)).collect::<Vec<_>>(),
            [16, u32::MAX as u64, 5 << 32, 0]
        );
        sizes.set(0, 7 << 32);
        sizes.set(2, 3);
        sizes.set(1, sizes.get(1) + 1);
        assert_eq!(
            (0..4).map(|n| sizes.get(n)).collect::<Vec<_>>(),
            [7 << 32, u32::MAX as u64 + 1, 3, 0]
        );
    }
}
