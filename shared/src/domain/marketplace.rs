//! The marketplaces we sell on, and `Marketplaces<T>`: one value per
//! marketplace.
//!
//! Adding a marketplace is a change the compiler walks you through: a new
//! `Marketplace` variant makes every `match` on it fail until handled (its
//! name, the set's `get`, each app's choice of client), and a new field of
//! `Marketplaces` makes every place that builds a set fail until it says
//! what the new marketplace gets. README § Adding a marketplace has the
//! checklist.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Marketplace {
    Trendyol,
    Hepsiburada,
}

impl Marketplace {
    pub const ALL: [Marketplace; 2] = [Marketplace::Trendyol, Marketplace::Hepsiburada];

    /// The name in routes, keys, events and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Marketplace::Trendyol => "trendyol",
            Marketplace::Hepsiburada => "hepsiburada",
        }
    }

    /// The widest window an order list serves whole (docs/marketplace-wire.md):
    /// Trendyol 14 days per request; Hepsiburada 24 hours, and a wider one is
    /// cut to 24 hours without a word, so none is ever sent.
    pub fn max_order_window_ms(self) -> i64 {
        const DAY_MS: i64 = 24 * 3600 * 1000;
        match self {
            Marketplace::Trendyol => 14 * DAY_MS,
            Marketplace::Hepsiburada => DAY_MS,
        }
    }

    /// The marketplace's storefront, where its buyers order and pay: the
    /// `internet_sale.url` of an e-Arşiv for its orders
    /// (docs/parasut-wire.md P37, UNCONFIRMED), and the name of the payment
    /// platform that collected the money.
    pub fn site(self) -> (&'static str, &'static str) {
        match self {
            Marketplace::Trendyol => ("https://www.trendyol.com", "Trendyol"),
            Marketplace::Hepsiburada => ("https://www.hepsiburada.com", "Hepsiburada"),
        }
    }

    /// The marketplace `as_str` names, if any.
    pub fn parse(name: &str) -> Option<Marketplace> {
        Marketplace::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// One `T` per marketplace, in `Marketplace::ALL` order. The clients a
/// function has are built once into a set (`Marketplaces<Option<Client>>`,
/// `None` where this deployment has no credentials) and iterated, never
/// chosen by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marketplaces<T> {
    pub trendyol: T,
    pub hepsiburada: T,
}

impl<T> Marketplaces<T> {
    /// A set with `make(marketplace)` for each marketplace.
    pub fn build(mut make: impl FnMut(Marketplace) -> T) -> Self {
        Marketplaces {
            trendyol: make(Marketplace::Trendyol),
            hepsiburada: make(Marketplace::Hepsiburada),
        }
    }

    /// `build` for a `make` that can fail.
    pub fn try_build<E>(mut make: impl FnMut(Marketplace) -> Result<T, E>) -> Result<Self, E> {
        Ok(Marketplaces {
            trendyol: make(Marketplace::Trendyol)?,
            hepsiburada: make(Marketplace::Hepsiburada)?,
        })
    }

    pub fn get(&self, marketplace: Marketplace) -> &T {
        match marketplace {
            Marketplace::Trendyol => &self.trendyol,
            Marketplace::Hepsiburada => &self.hepsiburada,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Marketplace, &T)> {
        Marketplace::ALL.into_iter().map(move |m| (m, self.get(m)))
    }
}

impl<T> Marketplaces<Option<T>> {
    /// The value of `marketplace`, if it has one here.
    pub fn configured(&self, marketplace: Marketplace) -> Option<&T> {
        self.get(marketplace).as_ref()
    }

    /// The marketplaces that have a value here, in `Marketplace::ALL` order.
    pub fn iter_configured(&self) -> impl Iterator<Item = (Marketplace, &T)> {
        self.iter().filter_map(|(m, v)| v.as_ref().map(|v| (m, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(Marketplace::parse("Trendyol"), None);
        assert_eq!(Marketplace::parse("n11"), None);
    }

    #[test]
    fn a_set_iterates_in_all_order_and_skips_the_unconfigured() {
        let set = Marketplaces::try_build(|m| {
            Ok::<_, ()>((m == Marketplace::Hepsiburada).then_some(m.as_str()))
        })
        .unwrap();
        assert_eq!(
            set.iter().map(|(m, _)| m).collect::<Vec<_>>(),
            Marketplace::ALL
        );
        assert_eq!(
            set.iter_configured().collect::<Vec<_>>(),
            vec![(Marketplace::Hepsiburada, &"hepsiburada")]
        );
        assert_eq!(set.configured(Marketplace::Trendyol), None);
    }
}
