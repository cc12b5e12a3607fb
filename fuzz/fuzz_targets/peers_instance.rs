//! The peers' neutral instance format, through the three readers (whole text, streaming, sized). They
//! must agree, and an accepted instance must survive a write and a second read unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::assign::{parse_instance, read_instance, read_instance_sized, write_instance};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_instance("fuzz.txt", text);
    let streamed = read_instance("fuzz.txt", text.as_bytes());
    assert_eq!(parsed.is_ok(), streamed.is_ok(), "the two readers disagree on {text:?}");
    let sized = read_instance_sized("fuzz.txt", text.as_bytes(), text.len() as u64);
    assert_eq!(parsed.as_ref().ok(), sized.as_ref().ok(), "the sized reader disagrees on {text:?}");
    if let Ok(problem) = parsed {
        let mut out = Vec::new();
        write_instance(&problem, &mut out).expect("write to memory");
        let again = parse_instance("again.txt", std::str::from_utf8(&out).expect("written text is UTF-8"))
            .expect("a written instance reads back");
        assert_eq!(again.capacity, problem.capacity);
        assert_eq!(again.n_edges(), problem.n_edges());
    }
});
