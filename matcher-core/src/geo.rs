//! Geometry, in one place: the Denmark box (what a Danish point may be), the grid of cells
//! the scorer orders offers by and the graph buckets them in ([`Frame`]: Denmark's, or one
//! sized to the offers of a night anywhere in the Nordic countries), and the two distances
//! (great-circle for checks, equirectangular on the hot path). Pure arithmetic: no data, no
//! I/O; what a data set's points may be beyond Denmark is the reference data's to say
//! ([`crate::model::ReferenceData::accepts`]).

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
/// Width of a grid cell in Denmark, degrees of longitude.
pub const CELL_LON: f64 = 0.08;
/// Rows of the Danish grid: `ceil((LAT_MAX - LAT_MIN) / CELL_LAT) + 1`.
pub const ROWS: usize = 71;
/// Columns of the Danish grid: `ceil((LON_MAX - LON_MIN) / CELL_LON) + 1`.
pub const COLS: usize = 94;

/// Width of a cell, km, at the middle latitude of a frame outside Denmark (Denmark's 0.08°
/// is 4.96 km at 56.15° N).
pub const CELL_WIDTH_KM: f64 = 5.0;

/// At most this many cells in a frame: the graph's buckets cost 75 keys × 4 bytes per cell
/// (39 MB here). A frame that would need more gets proportionally larger cells, so no
/// coordinate in a data set sizes an allocation.
pub const MAX_CELLS: usize = 1 << 17;

/// A uniform grid of cells over a box of latitude and longitude, row-major from the south-west
/// corner. Cells are [`CELL_LAT`] high and [`CELL_WIDTH_KM`] wide at the box's middle
/// latitude (an equirectangular scale per frame: at 70° N a cell of a frame centred at 62° N
/// is 3.8 km wide, at 55° N 6.4 km; the look-up converts km to degrees per row, so a circle is
/// covered at any latitude). Points outside go to the nearest edge cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// South edge, degrees.
    pub lat0: f64,
    /// West edge, degrees.
    pub lon0: f64,
    /// Height of a cell, degrees of latitude.
    pub cell_lat: f64,
    /// Width of a cell, degrees of longitude.
    pub cell_lon: f64,
    /// Rows of cells.
    pub rows: usize,
    /// Columns of cells.
    pub cols: usize,
}

impl Frame {
    /// The grid of the Denmark box: every night whose offers all lie in Denmark uses it, so
    /// that their spatial order, and therefore their run files, are those of before frames.
    pub const DENMARK: Frame = Frame {
        lat0: LAT_MIN,
        lon0: LON_MIN,
        cell_lat: CELL_LAT,
        cell_lon: CELL_LON,
        rows: ROWS,
        cols: COLS,
    };

    /// The frame of a set of points: [`Frame::DENMARK`] when every finite point lies in the
    /// Denmark box (or there is none), else the points' bounding box cut into cells
    /// [`CELL_LAT`] high and [`CELL_WIDTH_KM`] wide at its middle latitude (rounded to
    /// 0.01°), made coarser if it would have more than [`MAX_CELLS`]. Non-finite points are
    /// left out (they fall into an edge cell).
    ///
    /// # Complexity
    /// One pass over the points.
    pub fn covering(points: impl IntoIterator<Item = (f64, f64)>) -> Frame {
        let (mut south, mut north, mut west, mut east) =
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        let mut outside = false;
        for (lat, lon) in points {
            if !lat.is_finite() || !lon.is_finite() {
                continue;
            }
            outside |= !LAT_RANGE.contains(&lat) || !LON_RANGE.contains(&lon);
            south = south.min(lat);
            north = north.max(lat);
            west = west.min(lon);
            east = east.max(lon);
        }
        if !outside {
            return Frame::DENMARK;
        }
        // A margin of about 10 m, so that the points as the scorer's hot records keep them
        // (`f32`, within 4 m at 70°) lie inside too.
        let margin = 1e-4;
        let (south, north, west, east) = (south - margin, north + margin, west - margin, east + margin);
        let middle = ((south + north) / 2.0).clamp(-80.0, 80.0);
        let width = CELL_WIDTH_KM / (KM_PER_DEGREE * middle.to_radians().cos());
        let mut frame = Frame {
            lat0: south,
            lon0: west,
            cell_lat: CELL_LAT,
            cell_lon: ((width * 100.0).round() / 100.0).max(0.01),
            rows: 0,
            cols: 0,
        };
        let span = |extent: f64, cell: f64| ((extent / cell).ceil() as usize).saturating_add(1);
        loop {
            frame.rows = span(north - south, frame.cell_lat);
            frame.cols = span(east - west, frame.cell_lon);
            let cells = frame.rows.saturating_mul(frame.cols);
            if cells <= MAX_CELLS {
                return frame;
            }
            let grow = (cells as f64 / MAX_CELLS as f64).sqrt() * 1.01;
            frame.cell_lat *= grow;
            frame.cell_lon *= grow;
        }
    }

    /// Number of cells.
    pub fn n_cells(&self) -> usize {
        self.rows * self.cols
    }

    /// The row of a latitude (clamped to the frame).
    #[inline]
    pub fn row(&self, lat: f64) -> usize {
        (((lat - self.lat0) / self.cell_lat).floor().max(0.0) as usize).min(self.rows - 1)
    }

    /// The column of a longitude (clamped to the frame).
    #[inline]
    pub fn col(&self, lon: f64) -> usize {
        (((lon - self.lon0) / self.cell_lon).floor().max(0.0) as usize).min(self.cols - 1)
    }

    /// The cell of a point, row-major (points outside the frame go to the nearest edge
    /// cell). Also the scorer's spatial order of offers.
    #[inline]
    pub fn cell(&self, lat: f64, lon: f64) -> usize {
        self.row(lat) * self.cols + self.col(lon)
    }

    /// South and north edges of row `r`, degrees.
    #[inline]
    pub fn row_edges(&self, r: usize) -> (f64, f64) {
        (self.lat0 + r as f64 * self.cell_lat, self.lat0 + (r + 1) as f64 * self.cell_lat)
    }
}

/// The cell of a point in [`Frame::DENMARK`].
pub fn cell_index(lat: f64, lon: f64) -> usize {
    Frame::DENMARK.cell(lat, lon)
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

    /// Points at `km` from (lat, lon) on 36 bearings, by the great circle.
    fn ring(lat: f64, lon: f64, km: f64) -> impl Iterator<Item = (f64, f64)> {
        let (p1, l1, d) = (lat.to_radians(), lon.to_radians(), km / EARTH_RADIUS_KM);
        (0..36).map(move |i| {
            let bearing = f64::from(i) * 10f64.to_radians();
            let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * bearing.cos()).asin();
            let l2 = l1 + (bearing.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
            (p2.to_degrees(), l2.to_degrees())
        })
    }

    #[test]
    fn the_two_distances_agree_up_to_seventy_one_degrees_north() {
        // Travel limits are at most 60 km; the hot path's distance must stay within 1 % of
        // the great circle there, from Gedser to Nordkapp, in every direction.
        let mut worst: f64 = 0.0;
        for lat in [54.6, 58.0, 62.0, 66.0, 69.65, 71.0] {
            for km in [1.0, 10.0, 40.0, 60.0] {
                for (la, lo) in ring(lat, 18.0, km) {
                    let h = haversine_km(lat, 18.0, la, lo);
                    assert!((h - km).abs() < 1e-6 * km.max(1.0), "{h} vs {km}");
                    let e = equirectangular_km(lat, 18.0, lat.to_radians().cos(), la, lo);
                    worst = worst.max((e - h).abs() / h);
                }
            }
        }
        assert!(worst < 0.01, "worst relative error {worst}");
        // And it is a real error, growing with latitude: the test would see a wrong cosine.
        assert!(worst > 1e-4, "{worst}");
    }

    #[test]
    fn danish_points_keep_the_danish_frame() {
        let points = [(55.68, 12.57), (57.05, 9.92), (54.9, 8.3)];
        assert_eq!(Frame::covering(points), Frame::DENMARK);
        assert_eq!(Frame::covering(std::iter::empty()), Frame::DENMARK);
        assert_eq!(Frame::covering([(f64::NAN, 12.0), (55.0, 12.0)]), Frame::DENMARK);
        for (lat, lon) in points {
            assert_eq!(Frame::DENMARK.cell(lat, lon), cell_index(lat, lon));
        }
    }

    #[test]
    fn a_nordic_frame_holds_every_point_in_its_own_cell() {
        // Gedser, Reykjavík, Nordkapp, Helsinki, Tromsø.
        let points = [(54.57, 11.93), (64.15, -21.94), (71.17, 25.78), (60.17, 24.94), (69.65, 18.96)];
        let frame = Frame::covering(points);
        assert!(frame.n_cells() <= MAX_CELLS, "{frame:?}");
        assert!(frame.lat0 < 54.57 && frame.lon0 < -21.94, "{frame:?}");
        for (lat, lon) in points {
            let (r, c) = (frame.row(lat), frame.col(lon));
            let (south, north) = frame.row_edges(r);
            assert!(south <= lat && lat < north, "{lat} in row {r} of {frame:?}");
            let west = frame.lon0 + c as f64 * frame.cell_lon;
            assert!(west <= lon && lon < west + frame.cell_lon, "{lon} in column {c} of {frame:?}");
        }
        // Cells about 5 km wide at the middle latitude (62.9° N), 5.6 km high.
        let middle = frame.lat0 + frame.rows as f64 * frame.cell_lat / 2.0;
        let width = frame.cell_lon * KM_PER_DEGREE * middle.to_radians().cos();
        assert!((3.0..8.0).contains(&width), "{width} km at {middle}");
    }

    #[test]
    fn a_frame_over_the_whole_earth_stays_bounded() {
        let frame = Frame::covering([(-89.0, -179.0), (89.0, 179.0)]);
        assert!(frame.n_cells() <= MAX_CELLS, "{frame:?}");
        assert_eq!(frame.cell(-89.0, -179.0), 0);
        let (r, c) = (frame.row(89.0), frame.col(179.0));
        assert!(frame.row_edges(r).0 <= 89.0 && 89.0 < frame.row_edges(r).1, "{frame:?}");
        assert!(frame.lon0 + (c + 1) as f64 * frame.cell_lon > 179.0, "{frame:?}");
    }
}
