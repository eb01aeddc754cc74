//! What a patrol records: observation categories and actions, with stable codes.

use serde::{Deserialize, Serialize};

/// What was seen. Codes are stable: they are stored and synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Every category, in the order of the grid on the Observe screen.
    pub const ALL: [Category; 12] = [
        Category::SuspiciousPerson,
        Category::SuspiciousVehicle,
        Category::SnatchTheft,
        Category::Robbery,
        Category::Theft,
        Category::Drugs,
        Category::Gambling,
        Category::Fighting,
        Category::FireHazard,
        Category::TrafficAccident,
        Category::BrokenLightCamera,
        Category::Other,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Category::SuspiciousPerson => "suspicious_person",
            Category::SuspiciousVehicle => "suspicious_vehicle",
            Category::SnatchTheft => "snatch_theft",
            Category::Robbery => "robbery",
            Category::Theft => "theft",
            Category::Drugs => "drugs",
            Category::Gambling => "gambling",
            Category::Fighting => "fighting",
            Category::FireHazard => "fire_hazard",
            Category::TrafficAccident => "traffic_accident",
            Category::BrokenLightCamera => "broken_light_camera",
            Category::Other => "other",
        }
    }

    /// The category with this stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Translation key of its name.
    pub fn key(self) -> String {
        format!("cat.{}", self.code())
    }

    /// Whether a description is required (only "other" says nothing by itself).
    pub fn needs_description(self) -> bool {
        self == Category::Other
    }
}

/// What the patrol did about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl Action {
    /// Every action, in display order.
    pub const ALL: [Action; 5] = [
        Action::Watched,
        Action::Warned,
        Action::ReportedPolice,
        Action::HandedOver,
        Action::Mediated,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Action::Watched => "watched",
            Action::Warned => "warned",
            Action::ReportedPolice => "reported_police",
            Action::HandedOver => "handed_over",
            Action::Mediated => "mediated",
        }
    }

    /// The action with this stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Translation key of its name.
    pub fn key(self) -> String {
        format!("action.{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert!(seen.insert(c.code()));
            // serde uses the same stable code.
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
        }
        assert_eq!(Category::from_code("nonsense"), None);
    }
}
