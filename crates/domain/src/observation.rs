//! What a patrol records: observation categories and actions, with stable codes.

use serde::{Deserialize, Serialize};

/// What was seen. Codes are stable: they are stored and synced. A new category is a new line
/// here (and its name in the translation table): its code, the list and the count follow.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Category {
    /// Đối tượng khả nghi.
    SuspiciousPerson,
    /// Phương tiện khả nghi.
    SuspiciousVehicle,
    /// Cướp giật.
    SnatchTheft,
    /// Cướp.
    Robbery,
    /// Trộm cắp.
    Theft,
    /// Ma túy.
    Drugs,
    /// Cờ bạc.
    Gambling,
    /// Đánh nhau, gây rối trật tự công cộng.
    Fighting,
    /// Nguy cơ cháy nổ.
    FireHazard,
    /// Tai nạn giao thông.
    TrafficAccident,
    /// Đèn đường / camera hỏng.
    BrokenLightCamera,
    /// Khác.
    Other,
}

impl Category {
    /// Whether a description is required (only "other" says nothing by itself).
    pub fn needs_description(self) -> bool {
        self == Category::Other
    }
}

/// What the patrol did about it. Codes are stable, as a category's.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// Theo dõi.
    Watched,
    /// Nhắc nhở.
    Warned,
    /// Báo công an phường.
    ReportedPolice,
    /// Bàn giao cho công an.
    HandedOver,
    /// Hòa giải.
    Mediated,
}

coded!(Category, "cat");
coded!(Action, "action");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert_eq!(Category::ALL[c.index()], c);
            assert!(seen.insert(c.code()));
            // serde uses the same stable code.
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        for &a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert_eq!(Action::ALL[a.index()], a);
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
        }
        assert_eq!(Category::from_code("nonsense"), None);
    }

    /// The codes phones and servers have stored keep their meaning: a variant renamed would change
    /// its code, and this fails. A new category or action is added, never renamed.
    #[test]
    fn stored_codes_still_read_as_before() {
        let categories = [
            ("suspicious_person", Category::SuspiciousPerson),
            ("suspicious_vehicle", Category::SuspiciousVehicle),
            ("snatch_theft", Category::SnatchTheft),
            ("robbery", Category::Robbery),
            ("theft", Category::Theft),
            ("drugs", Category::Drugs),
            ("gambling", Category::Gambling),
            ("fighting", Category::Fighting),
            ("fire_hazard", Category::FireHazard),
            ("traffic_accident", Category::TrafficAccident),
            ("broken_light_camera", Category::BrokenLightCamera),
            ("other", Category::Other),
        ];
        for (code, c) in categories {
            assert_eq!(Category::from_code(code), Some(c), "{code}");
        }
        let actions = [
            ("watched", Action::Watched),
            ("warned", Action::Warned),
            ("reported_police", Action::ReportedPolice),
            ("handed_over", Action::HandedOver),
            ("mediated", Action::Mediated),
        ];
        for (code, a) in actions {
            assert_eq!(Action::from_code(code), Some(a), "{code}");
        }
    }
}
