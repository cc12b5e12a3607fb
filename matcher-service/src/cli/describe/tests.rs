use super::*;

fn reference() -> Arc<ReferenceData> {
    Arc::new(ReferenceData::embedded().expect("embedded reference data"))
}

fn sample(reference: &ReferenceData) -> Candidate {
    let w = world::generate(Variant::Base, 11, reference).expect("world");
    w.data.candidates[0].clone()
}

fn rows() -> Vec<EvaluationRow> {
    vec![EvaluationRow { world: "base", seed: 11, shares: [0.844, 0.697, 0.64, 0.634] }]
}

fn render(policies: &PolicySet, municipality: Option<u16>, lang: Lang) -> String {
    let r = reference();
    let sample = sample(&r);
    let evaluation = rows();
    let inputs = Inputs {
        policies,
        municipality: municipality.map(MunicipalityCode),
        reference: &r,
        sample: &sample,
        evaluation: &evaluation,
    };
    markdown(&card(&inputs, lang))
}

#[test]
fn a_changed_policy_weight_changes_the_card() {
    let national = PolicySet::default();
    let before = render(&national, None, Lang::En);
    assert!(before.contains("| `effect` | 6 |"), "{before}");
    let mut changed = PolicySet::default();
    changed.national.weights.effect = 2.5;
    let after = render(&changed, None, Lang::En);
    assert!(after.contains("| `effect` | 2.5 |"), "{after}");
    assert_ne!(before, after);
    // The policy hash moves with it, so the card names the policy the log recorded.
    let hash = |text: &str| text.split("SHA-256 ").nth(1).map(|s| s[..64].to_string());
    assert_ne!(hash(&before), hash(&after));
}

#[test]
fn every_factor_limit_and_protected_attribute_is_on_the_card_in_both_languages() {
    let policies = PolicySet::default();
    for lang in [Lang::Da, Lang::En] {
        let text = render(&policies, None, lang);
        for f in Factor::ALL {
            assert!(text.contains(&format!("`{}`", f.key())), "{lang:?}: factor {} missing", f.key());
            assert!(text.contains(&factor_text(lang, f)), "{lang:?}: {}", f.key());
        }
        for r in removals() {
            assert!(text.contains(&removal_text(lang, &r)), "{lang:?}: {r:?}");
        }
        for field in fields_of(&AuditAttributes::default()) {
            assert!(text.contains(&format!("`{field}`")), "{lang:?}: protected attribute {field} missing");
        }
        for role in Role::ALL {
            assert!(text.contains(&format!("`{}`", role.name())), "{lang:?}: role {}", role.name());
        }
        assert_eq!(text.matches('⟦').count(), 3, "{lang:?}: purpose, legal basis and contact are to fill in");
    }
    let da = render(&policies, None, Lang::Da);
    assert!(da.contains("## Retsgrundlag") && da.contains("UDFYLDES AF KOMMUNEN"));
}

#[test]
fn every_field_of_a_candidate_is_described_and_the_protected_ones_are_not_among_the_used() {
    let r = reference();
    let fields = fields_of(&sample(&r));
    assert!(fields.len() >= 10, "{fields:?}");
    for f in fields.iter().filter(|f| f.as_str() != "audit") {
        assert!(
            field_text(Lang::Da, f).is_some() && field_text(Lang::En, f).is_some(),
            "field {f} undescribed"
        );
    }
    assert_eq!(fields_of(&AuditAttributes::default()), vec!["gender".to_string(), "origin".to_string()]);
    let text = render(&PolicySet::default(), None, Lang::En);
    let used =
        text.split("## Data used").nth(1).and_then(|s| s.split("## Data not used").next()).expect("section");
    assert!(!used.contains("`gender`") && !used.contains("`origin`") && !used.contains("`audit`"), "{used}");
}

#[test]
fn the_municipalitys_policy_is_the_one_described() {
    let file = "name = \"aalborg-2027\"\nmunicipality = \"0851\"\n[weights]\ndistance = 3.0\n";
    let set = PolicySet::from_files([("aalborg.toml", file)]).expect("policy");
    let text = render(&set, Some(851), Lang::Da);
    assert!(
        text.starts_with("# Modelkort: Brobygger, politik «aalborg-2027» for Aalborg (0851)"),
        "{}",
        &text[..120]
    );
    assert!(text.contains("| `distance` | 3 |"));
    let national = render(&set, None, Lang::Da);
    assert!(national.contains("«national-default»") && national.contains("| `distance` | 1 |"));
}

#[test]
fn the_evaluation_is_measured_on_the_fixed_worlds() {
    let r = reference();
    let measured = evaluate(&Policy::national_default(), &r).expect("evaluation");
    assert_eq!(measured.len(), EVALUATION.len());
    for row in &measured {
        // The engine with its history beats a random offer on every fixed world.
        assert!(row.shares[0] > row.shares[2], "{row:?}");
        assert!(row.shares.iter().all(|s| (0.0..=1.5).contains(s)), "{row:?}");
    }
    assert_eq!(measured, evaluate(&Policy::national_default(), &r).expect("again"), "deterministic");
}

#[test]
fn html_is_one_page_with_the_same_content() {
    let r = reference();
    let sample = sample(&r);
    let evaluation = rows();
    let policies = PolicySet::default();
    let inputs = Inputs {
        policies: &policies,
        municipality: None,
        reference: &r,
        sample: &sample,
        evaluation: &evaluation,
    };
    let c = card(&inputs, Lang::En);
    let page = html(&c, Lang::En);
    assert!(page.starts_with("<!doctype html><html lang=\"en\">"));
    assert!(page.contains("<code>group_fit</code>") && !page.contains("http"));
    assert_eq!(
        page.matches("<h2>").count(),
        c.blocks.iter().filter(|b| matches!(b, Block::Heading(_))).count()
    );
}
