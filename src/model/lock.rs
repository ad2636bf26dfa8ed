//! The one way to take a `std::sync::Mutex` here: tolerant of poisoning.

use std::sync::{Mutex, MutexGuard};

/// Lock `m`, taking the data even if another thread panicked while holding it. Every
/// mutex here guards data that stays consistent between statements (a map, a counter, a
/// connection), so a panic elsewhere must not turn into a second panic or a lost message.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_mutex_still_gives_its_data() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }
}
