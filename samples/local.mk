# samples/: installed under $(pkgdatadir)/samples for s4lab demo.
nobase_dist_pkgdata_DATA = \
	samples/README.md \
	samples/classes.txt \
	samples/images/tile1_image_part_001.jpg \
	samples/images/tile1_image_part_005.jpg \
	samples/images/tile1_image_part_009.jpg \
	samples/images/tile2_image_part_002.jpg \
	samples/images/tile2_image_part_004.jpg \
	samples/images/tile2_image_part_007.jpg \
	samples/images/tile3_image_part_003.jpg \
	samples/images/tile3_image_part_005.jpg \
	samples/images/tile3_image_part_008.jpg \
	samples/images/tile5_image_part_001.jpg \
	samples/images/tile5_image_part_005.jpg \
	samples/images/tile5_image_part_009.jpg \
	samples/masks/tile1_image_part_001.png \
	samples/masks/tile1_image_part_005.png \
	samples/masks/tile1_image_part_009.png \
	samples/masks/tile2_image_part_002.png \
	samples/masks/tile2_image_part_004.png \
	samples/masks/tile2_image_part_007.png \
	samples/masks/tile3_image_part_003.png \
	samples/masks/tile3_image_part_005.png \
	samples/masks/tile3_image_part_008.png \
	samples/masks/tile5_image_part_001.png \
	samples/masks/tile5_image_part_005.png \
	samples/masks/tile5_image_part_009.png \
	$(NULL)
