//! Carrier names each marketplace accepts, and how the names stations use map to them.
//!
//! Stations name carriers their own way ("UPS Ground", "USPS", "DHL eCommerce").
//! Amazon wants a `carrierCode` from its list (or `Other` with a `carrierName`), eBay a
//! `ShippingCarrierUsed` / `shippingCarrierCode` from its own. Shipback maps a station's
//! name with, first, the admins' mapping (Admin → Carriers), then a built-in table of
//! the marketplace's documented codes, matched on the name or its first words. A name
//! neither knows is never sent as it is: the shipment waits until it is mapped.

use crate::accounts::MarketplaceKind;
use serde::{Deserialize, Serialize};

/// Amazon's carrier codes (the `CarrierCode` values of its shipment confirmations) that
/// Shipback knows, each with other names stations use for it.
pub const AMAZON_CARRIERS: &[(&str, &[&str])] = &[
    (
        "USPS",
        &[
            "United States Postal Service",
            "US Postal Service",
            "Stamps.com",
        ],
    ),
    ("UPS", &["United Parcel Service"]),
    ("UPSMI", &["UPS Mail Innovations"]),
    ("FedEx", &["Federal Express", "FDX"]),
    ("FedEx SmartPost", &["FedEx Ground Economy"]),
    ("DHL", &["DHL Express"]),
    (
        "DHL eCommerce",
        &["DHL Global Mail", "DHL eCommerce Solutions"],
    ),
    ("OnTrac", &[]),
    ("LaserShip", &["Lasership"]),
    ("OSM", &["OSM Worldwide"]),
    ("Amazon Shipping", &["Amazon Logistics", "Buy Shipping"]),
    ("Canada Post", &["Postes Canada"]),
    ("Purolator", &[]),
    ("Royal Mail", &[]),
    ("Parcelforce", &["Parcel Force"]),
    ("Yodel", &[]),
    ("Hermes", &["Evri"]),
    ("DPD", &[]),
    ("GLS", &[]),
    ("TNT", &[]),
    ("Deutsche Post", &[]),
    ("La Poste", &["Colissimo"]),
    ("Chronopost", &[]),
    ("Poste Italiane", &[]),
    ("Correos", &[]),
    ("SEUR", &[]),
    ("Australia Post", &[]),
    ("Japan Post", &[]),
    ("Yamato Transport", &["Yamato"]),
    ("Sagawa Express", &["Sagawa"]),
    ("India Post", &[]),
    ("Blue Dart", &[]),
    ("Delhivery", &[]),
    ("Other", &[]),
];

/// eBay's `ShippingCarrierCodeType` values that Shipback knows (the codes
/// `GeteBayDetails` lists under `ShippingCarrierDetails`), each with other names.
pub const EBAY_CARRIERS: &[(&str, &[&str])] = &[
    (
        "USPS",
        &[
            "United States Postal Service",
            "US Postal Service",
            "Stamps.com",
        ],
    ),
    ("UPS", &["United Parcel Service"]),
    ("FedEx", &["Federal Express", "FDX"]),
    ("DHL", &["DHL Express"]),
    ("DHLGlobalMail", &["DHL eCommerce", "DHL Global Mail"]),
    ("OnTrac", &[]),
    ("LaserShip", &["Lasership"]),
    ("OSMWorldwide", &["OSM", "OSM Worldwide"]),
    ("CanadaPost", &["Canada Post"]),
    ("Purolator", &[]),
    ("RoyalMail", &["Royal Mail"]),
    ("ParcelForce", &["Parcelforce", "Parcel Force"]),
    ("Yodel", &[]),
    ("Hermes", &["Evri"]),
    ("DPD", &[]),
    ("GLS", &[]),
    ("TNT", &[]),
    ("DeutschePost", &["Deutsche Post"]),
    ("ColissimoFR", &["Colissimo", "La Poste"]),
    ("ChronopostFR", &["Chronopost"]),
    ("AustraliaPost", &["Australia Post"]),
    ("Other", &[]),
];

/// The codes a marketplace accepts: what the emulator lets through, and what the
/// Carriers screen offers.
pub fn accepted_codes(marketplace: MarketplaceKind) -> impl Iterator<Item = &'static str> {
    table(marketplace).iter().map(|(code, _)| *code)
}

fn table(marketplace: MarketplaceKind) -> &'static [(&'static str, &'static [&'static str])] {
    match marketplace {
        MarketplaceKind::Amazon => AMAZON_CARRIERS,
        MarketplaceKind::Ebay => EBAY_CARRIERS,
    }
}

/// A name as compared: lower case, letters and digits only.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The words of a name, normalised.
fn words(name: &str) -> Vec<String> {
    name.split_whitespace()
        .map(normalise)
        .filter(|w| !w.is_empty())
        .collect()
}

/// What a shipment's carrier is sent as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceCarrier {
    /// Amazon `carrierCode`, eBay `ShippingCarrierUsed` / `shippingCarrierCode`.
    pub code: String,
    /// Amazon's `carrierName`, sent with `Other`.
    pub name: Option<String>,
}

/// One mapping an admin made: the station's name for a carrier, and what a marketplace
/// is sent for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierMapping {
    pub marketplace: MarketplaceKind,
    /// As the station names the carrier.
    pub station_name: String,
    pub code: String,
    /// With `Other`: the carrier's name as the buyer should see it.
    #[serde(default)]
    pub name: String,
}

impl CarrierMapping {
    /// What is wrong with the mapping, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.station_name.trim().is_empty() || self.station_name.chars().count() > 100 {
            return Some("the station's carrier name is 1 to 100 characters".into());
        }
        if !accepted_codes(self.marketplace).any(|c| c == self.code) {
            return Some(format!(
                "'{}' is not a carrier code {} accepts",
                self.code,
                self.marketplace.label()
            ));
        }
        if self.code == "Other" && self.name.trim().is_empty() {
            return Some("with Other, give the carrier's name as the buyer should read it".into());
        }
        if self.name.chars().count() > 100 {
            return Some("the carrier's name is at most 100 characters".into());
        }
        None
    }
}

/// The carrier a station named, mapped to what `marketplace` accepts; `None` when
/// neither the admins' mapping nor the built-in table knows it.
pub fn resolve(
    marketplace: MarketplaceKind,
    station_name: &str,
    mappings: &[CarrierMapping],
) -> Option<MarketplaceCarrier> {
    let wanted = normalise(station_name);
    if wanted.is_empty() {
        return None;
    }
    if let Some(m) = mappings
        .iter()
        .find(|m| m.marketplace == marketplace && normalise(&m.station_name) == wanted)
    {
        return Some(MarketplaceCarrier {
            code: m.code.clone(),
            name: (m.code == "Other").then(|| m.name.clone()),
        });
    }
    let station_words = words(station_name);
    // The built-in name (or alias) that matches the most leading words of the
    // station's name: "UPS Ground" is UPS, "DHL eCommerce Parcel" is DHL eCommerce.
    let mut best: Option<(&str, usize)> = None;
    for (code, aliases) in table(marketplace) {
        if *code == "Other" {
            continue;
        }
        for name in std::iter::once(code).chain(aliases.iter()) {
            let name_words = words(name);
            let matches = !name_words.is_empty()
                && station_words.len() >= name_words.len()
                && station_words[..name_words.len()] == name_words[..];
            if matches && best.is_none_or(|(_, n)| name_words.len() > n) {
                best = Some((code, name_words.len()));
            }
        }
        // A name written without its spaces ("CanadaPost", "dhlecommerce").
        if best.is_none() && normalise(code) == wanted {
            best = Some((code, 1));
        }
    }
    best.map(|(code, _)| MarketplaceCarrier {
        code: code.to_string(),
        name: None,
    })
}

/// Reads mappings from CSV: a header line (`marketplace,station_carrier,code,name`),
/// then one mapping per line. Every problem is named with its line, and nothing is
/// taken when there is one.
pub fn parse_csv(text: &str) -> Result<Vec<CarrierMapping>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the CSV cannot be read: {e}"))?
        .clone();
    let expected = ["marketplace", "station_carrier", "code", "name"];
    let names: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    if names.len() < 3 || names[..3] != expected[..3] {
        return Err(format!(
            "the first line must be the header: {}",
            expected.join(",")
        ));
    }
    let mut mappings = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").to_string();
        let Some(marketplace) = MarketplaceKind::parse(&field(0).to_ascii_lowercase()) else {
            problems.push(format!(
                "line {line}: marketplace is amazon or ebay, not '{}'",
                field(0)
            ));
            continue;
        };
        let mapping = CarrierMapping {
            marketplace,
            station_name: field(1),
            code: field(2),
            name: field(3),
        };
        match mapping.problem() {
            Some(problem) => problems.push(format!("line {line}: {problem}")),
            None => mappings.push(mapping),
        }
    }
    if !problems.is_empty() {
        let shown: Vec<String> = problems.iter().take(10).cloned().collect();
        let more = problems.len().saturating_sub(shown.len());
        let mut message = format!("nothing was imported: {}", shown.join("; "));
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        return Err(message);
    }
    if mappings.is_empty() {
        return Err("the CSV holds no mapping".into());
    }
    Ok(mappings)
}

/// Why a shipment waits: the sentence the grid shows, and what it waits on (so that
/// saving a mapping for that name sends it on).
pub fn unmapped(marketplace: MarketplaceKind, station_name: &str) -> (String, String) {
    let what = match marketplace {
        MarketplaceKind::Amazon => "Amazon carrier code",
        MarketplaceKind::Ebay => "eBay carrier code",
    };
    (
        format!("carrier '{station_name}' has no {what}: map it under Admin → Carriers"),
        waiting_key(marketplace, station_name),
    )
}

/// What a shipment waiting for a carrier's mapping waits on.
pub fn waiting_key(marketplace: MarketplaceKind, station_name: &str) -> String {
    format!(
        "carrier:{}:{}",
        marketplace.as_str(),
        normalise(station_name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use MarketplaceKind::{Amazon, Ebay};

    fn code(marketplace: MarketplaceKind, name: &str) -> Option<String> {
        resolve(marketplace, name, &[]).map(|c| c.code)
    }

    #[test]
    fn station_names_map_to_each_marketplaces_codes() {
        assert_eq!(code(Amazon, "UPS Ground").as_deref(), Some("UPS"));
        assert_eq!(code(Amazon, "usps").as_deref(), Some("USPS"));
        assert_eq!(
            code(Amazon, "DHL eCommerce").as_deref(),
            Some("DHL eCommerce")
        );
        assert_eq!(
            code(Amazon, "DHL Express Worldwide").as_deref(),
            Some("DHL")
        );
        assert_eq!(
            code(Amazon, "FedEx Home Delivery").as_deref(),
            Some("FedEx")
        );
        assert_eq!(
            code(Ebay, "DHL eCommerce").as_deref(),
            Some("DHLGlobalMail")
        );
        assert_eq!(code(Ebay, "Royal Mail").as_deref(), Some("RoyalMail"));
        assert_eq!(code(Ebay, "canadapost").as_deref(), Some("CanadaPost"));
        assert_eq!(code(Amazon, "Bob's Vans"), None, "never guessed");
        assert_eq!(
            code(Amazon, "Other"),
            None,
            "Other needs a name: an admin's mapping"
        );
        assert_eq!(code(Amazon, "  "), None);
    }

    #[test]
    fn an_admins_mapping_comes_first() {
        let mappings = [CarrierMapping {
            marketplace: Amazon,
            station_name: "Bob's Vans".into(),
            code: "Other".into(),
            name: "Bob's Vans Ltd".into(),
        }];
        assert_eq!(
            resolve(Amazon, "bobs vans", &mappings),
            Some(MarketplaceCarrier {
                code: "Other".into(),
                name: Some("Bob's Vans Ltd".into())
            })
        );
        assert_eq!(
            resolve(Ebay, "Bob's Vans", &mappings),
            None,
            "per marketplace"
        );
    }

    #[test]
    fn a_csv_is_taken_whole_or_not_at_all() {
        let good = "marketplace,station_carrier,code,name\n\
                    amazon,Bob's Vans,Other,Bob's Vans Ltd\n\
                    ebay,\"Royal Mail, 24\",RoyalMail,\n";
        let mappings = parse_csv(good).unwrap();
        assert_eq!(mappings.len(), 2);
        assert_eq!(mappings[1].station_name, "Royal Mail, 24");
        let bad = "marketplace,station_carrier,code,name\n\
                   amazon,Bob's Vans,Other,\n\
                   etsy,X,UPS,\n\
                   ebay,Royal Mail,RoyalMail,\n";
        let error = parse_csv(bad).unwrap_err();
        assert!(error.contains("line 2: with Other"), "{error}");
        assert!(
            error.contains("line 3: marketplace is amazon or ebay"),
            "{error}"
        );
        assert!(parse_csv("code,name\nUPS,x\n")
            .unwrap_err()
            .contains("header"));
        assert!(parse_csv("marketplace,station_carrier,code,name\n").is_err());
    }

    #[test]
    fn a_mapping_names_a_code_the_marketplace_accepts() {
        let mut m = CarrierMapping {
            marketplace: Ebay,
            station_name: "Royal Mail 24".into(),
            code: "Royal Mail".into(),
            name: String::new(),
        };
        assert!(m
            .problem()
            .unwrap()
            .contains("not a carrier code eBay accepts"));
        m.code = "RoyalMail".into();
        assert_eq!(m.problem(), None);
        m.code = "Other".into();
        assert!(m.problem().unwrap().contains("carrier's name"));
    }
}
