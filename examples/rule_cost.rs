use leaksweep::matcher::{Matcher, Scratch};
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let data = std::fs::read(path).unwrap();
    let rules = leaksweep::rules::builtin().unwrap();
    let mut rows = vec![];
    for r in &rules {
        let m = Matcher::new(vec![r.clone()]).unwrap();
        let mut s = Scratch::default();
        m.scan(&data, None, &mut s);
        let t = std::time::Instant::now();
        let n = m.scan(&data, None, &mut s).len();
        rows.push((t.elapsed().as_secs_f64() * 1000.0, r.id.clone(), n));
    }
    rows.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for r in rows.iter().take(15) {
        println!("{:8.1} ms {} {}", r.0, r.1, r.2);
    }
    let m = Matcher::new(rules).unwrap();
    let mut s = Scratch::default();
    let t = std::time::Instant::now();
    m.scan(&data, None, &mut s);
    println!(
        "all first (with regex compile): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = std::time::Instant::now();
    m.scan(&data, None, &mut s);
    println!(
        "all: {:.1} ms for {} bytes",
        t.elapsed().as_secs_f64() * 1000.0,
        data.len()
    );
}
