//! Geometry of Denmark, in one place: the box every point must lie in, the grid of cells the
//! scorer orders offers by and the graph buckets them in, and the two distances (great-circle
//! for checks, equirectangular on the hot path). Pure arithmetic: no data, no I/O.

/// Mean Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6_371.0;

/// Kilometres per degree of latitude (mean Earth radius).
pub const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Latitudes a Danish candidate or offer can have (with a margin). A point outside is almost
/// always swapped columns or a unit error in an export.
pub const LAT_RANGE: std::ops::RangeInclusive<f64> = LAT_MIN..=LAT_MAX;
/// Longitudes a Danish candidate or offer can have (with a margin).
pub const LON_RANGE: std::ops::RangeInclusive<f64> = LON_MIN..=LON_MAX;
/// South edge of the box.
pub const LAT_MIN: f64 = 54.4;
/// North edge of the box.
pub const LAT_MAX: f64 = 57.9;
/// West edge of the box.
pub const LON_MIN: f64 = 7.9;
/// East edge of the box.
pub const LON_MAX: f64 = 15.3;

// About 5.6 km × 5 km at 56° N: small against the usual travel limits (8–40 km), so the
// cells a circle touches hold little beyond the circle itself.
/// Height of a grid cell, degrees of latitude.
pub const CELL_LAT: f64 = 0.05;
/// Width of a grid cell, degrees of longitude.
pub const CELL_LON: f64 = 0.08;
/// Rows of the grid: `ceil((LAT_MAX - LAT_MIN) / CELL_LAT) + 1`.
pub const ROWS: usize = 71;
/// Columns of the grid: `ceil((LON_MAX - LON_MIN) / CELL_LON) + 1`.
pub const COLS: usize = 94;

/// The grid cell of a point, row-major (points outside the box go to the nearest edge cell).
/// Also the scorer's spatial order of offers.
pub fn cell_index(lat: f64, lon: f64) -> usize {
    let r = (((lat - LAT_MIN) / CELL_LAT).floor().max(0.0) as usize).min(ROWS - 1);
    let c = (((lon - LON_MIN) / CELL_LON).floor().max(0.0) as usize).min(COLS - 1);
    r * COLS + c
}

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn haversine_km(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let (p1, p2) = (lat_a.to_radians(), lat_b.to_radians());
    let dp = p2 - p1;
    let dl = (lon_b - lon_a).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

/// Distance in km between two points: equirectangular projection at `lat_a`'s latitude,
/// mean Earth radius. Within 0.5% of the great-circle distance for pairs up to 100 km apart in
/// Denmark, and one cosine per candidate instead of several trigonometric calls per pair.
#[inline]
pub fn equirectangular_km(lat_a: f64, lon_a: f64, cos_lat_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let dy = (lat_b - lat_a) * KM_PER_DEGREE;
    let dx = (lon_b - lon_a) * KM_PER_DEGREE * cos_lat_a;
    (dx * dx + dy * dy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_the_box() {
        assert_eq!(ROWS, ((LAT_MAX - LAT_MIN) / CELL_LAT).ceil() as usize + 1);
        assert_eq!(COLS, ((LON_MAX - LON_MIN) / CELL_LON).ceil() as usize + 1);
        assert_eq!(cell_index(LAT_MIN, LON_MIN), 0);
        assert_eq!(cell_index(90.0, 90.0), ROWS * COLS - 1);
    }

    #[test]
    fn the_two_distances_agree_in_denmark() {
        // København to Aarhus: about 157 km.
        let (a, b) = ((55.6761, 12.5683), (56.1629, 10.2039));
        let h = haversine_km(a.0, a.1, b.0, b.1);
        let e = equirectangular_km(a.0, a.1, a.0.to_radians().cos(), b.0, b.1);
        assert!((150.0..165.0).contains(&h), "{h}");
        assert!((h - e).abs() / h < 0.01, "{h} vs {e}");
    }
}
