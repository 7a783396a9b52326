//! Marketplace category rules (which attributes a leaf category requires and
//! which values it allows), in one shape for both marketplaces, and the check
//! that refuses a product before it is sent rather than after a batch fails.

use serde::{Deserialize, Serialize};

use crate::domain::marketplace::Marketplace;
use crate::domain::product::Product;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryAttribute {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub allow_custom: bool,
    /// Allowed value ids; empty when the marketplace lists none (any value).
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRules {
    pub attributes: Vec<CategoryAttribute>,
}

/// Why the product cannot be listed in its mapped category; empty when it can.
/// `rules` is `None` when the marketplace does not know the category as a leaf.
pub fn category_problems(
    product: &Product,
    marketplace: Marketplace,
    rules: Option<&CategoryRules>,
) -> Vec<String> {
    // (attribute id, value id, custom text) as mapped for this marketplace.
    type Given = Vec<(String, Option<String>, Option<String>)>;
    let (category_id, given): (u64, Given) = match marketplace {
        Marketplace::Trendyol => match &product.trendyol {
            None => return vec![],
            Some(m) => (
                m.category_id,
                m.attributes
                    .iter()
                    .map(|a| {
                        (
                            a.attribute_id.to_string(),
                            a.attribute_value_id.map(|v| v.to_string()),
                            a.custom_attribute_value.clone(),
                        )
                    })
                    .collect(),
            ),
        },
        Marketplace::Hepsiburada => match &product.hepsiburada {
            None => return vec![],
            Some(m) => (
                m.category_id,
                m.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), None, Some(v.clone())))
                    .collect(),
            ),
        },
    };
    let Some(rules) = rules else {
        return vec![format!(
            "category {category_id} is not a leaf category of {}",
            marketplace.as_str()
        )];
    };
    let mut problems = Vec::new();
    for attr in rules.attributes.iter().filter(|a| a.required) {
        if !given.iter().any(|(id, _, _)| *id == attr.id) {
            problems.push(format!(
                "required attribute {} ({}) is missing",
                attr.id, attr.name
            ));
        }
    }
    for (id, value_id, custom) in &given {
        let Some(attr) = rules.attributes.iter().find(|a| a.id == *id) else {
            problems.push(format!(
                "attribute {id} does not belong to category {category_id}"
            ));
            continue;
        };
        match (value_id, custom) {
            (Some(v), _) if !attr.values.is_empty() && !attr.values.contains(v) => {
                problems.push(format!(
                    "value {v} is not allowed for attribute {id} ({})",
                    attr.name
                ))
            }
            // Hepsiburada takes text for every attribute; Trendyol only where allowed.
            (None, Some(_)) if marketplace == Marketplace::Trendyol && !attr.allow_custom => {
                problems.push(format!(
                    "attribute {id} ({}) takes one of Trendyol's values, not free text",
                    attr.name
                ))
            }
            _ => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::sample;

    fn rules() -> CategoryRules {
        CategoryRules {
            attributes: vec![
                CategoryAttribute {
                    id: "47".into(),
                    name: "Renk".into(),
                    required: true,
                    allow_custom: false,
                    values: vec!["4711".into(), "4712".into()],
                },
                CategoryAttribute {
                    id: "338".into(),
                    name: "Beden".into(),
                    required: false,
                    allow_custom: true,
                    values: vec![],
                },
            ],
        }
    }

    #[test]
    fn a_product_meeting_its_category_passes() {
        let p = sample("A");
        assert!(category_problems(&p, Marketplace::Trendyol, Some(&rules())).is_empty());
    }

    #[test]
    fn missing_required_unknown_and_disallowed_values_are_named() {
        let mut p = sample("A");
        let t = p.trendyol.as_mut().unwrap();
        t.attributes[0].attribute_value_id = Some(9999);
        let problems = category_problems(&p, Marketplace::Trendyol, Some(&rules()));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("9999"));
        p.trendyol.as_mut().unwrap().attributes.clear();
        let problems = category_problems(&p, Marketplace::Trendyol, Some(&rules()));
        assert!(
            problems[0].contains("required attribute 47"),
            "{problems:?}"
        );
        let problems = category_problems(&p, Marketplace::Trendyol, None);
        assert!(problems[0].contains("not a leaf category"), "{problems:?}");
    }

    #[test]
    fn hepsiburada_attributes_are_checked_by_id() {
        let p = sample("A");
        let hb_rules = CategoryRules {
            attributes: vec![CategoryAttribute {
                id: "garanti".into(),
                name: "Garanti".into(),
                required: true,
                allow_custom: true,
                values: vec![],
            }],
        };
        let problems = category_problems(&p, Marketplace::Hepsiburada, Some(&hb_rules));
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
