"""The declared stock: summed per item and holder; a bad row fails naming its line, field and reason."""

from __future__ import annotations

import pytest

from shuzhi.supplies import StockError, read_stock, stock_from_rows

ITEMS = {"beds", "masks"}


def test_rows_add_up_per_item_and_holder():
    text = "item,holder,quantity\nbeds,330100,5\nbeds,330100,7\nmasks,330300,0\n"
    assert read_stock(text, ITEMS) == {"beds": {"330100": 12}, "masks": {"330300": 0}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("item,where,quantity\nbeds,330100,1\n", "line 1: the header must be item,holder,quantity"),
        ("item,holder,quantity\ngold,330100,1\n", "line 2: field 'item': 'gold' is not one of beds, masks"),
        ("item,holder,quantity\nbeds,330102,1\n", "line 2: field 'holder': '330102' is not a city"),
        ("item,holder,quantity\nbeds,330000,1\n", "line 2: field 'holder': '330000' is not a city"),
        ("item,holder,quantity\nbeds,330100,1\nbeds,330100,2.5\n", "line 3: field 'quantity': '2.5'"),
    ],
)
def test_a_bad_row_names_its_line_and_field(text, message):
    with pytest.raises(StockError, match=message):
        read_stock(text, ITEMS)


def test_rows_from_the_api_are_checked_the_same_way():
    with pytest.raises(StockError, match="row 2: field 'quantity': '-1'"):
        stock_from_rows(
            [
                {"item": "beds", "holder": "330100", "quantity": 1},
                {"item": "beds", "holder": "330100", "quantity": -1},
            ],
            ITEMS,
        )
