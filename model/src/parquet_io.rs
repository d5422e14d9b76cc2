//! Encoding a [`Table`] as a Parquet file and back, with the low-level `parquet` API.
//!
//! Every column is OPTIONAL (nulls mean "unknown"), one row group per table (snapshot
//! tables are small: thousands of rows), Snappy compression for the widest reader
//! support (pandas, DuckDB, Spark, polars).

use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, get_typed_column_reader};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::table::{Column, ColumnData, Table};

/// Encodes a table as the bytes of a Parquet file.
pub fn encode(table: &Table) -> Result<Vec<u8>, ParquetError> {
    let fields = table
        .columns()
        .iter()
        .map(|c| field_type(c).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("perfdiag {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(props))?;
    let mut row_group = writer.next_row_group()?;
    for column in table.columns() {
        let mut out = row_group
            .next_column()?
            .ok_or_else(|| ParquetError::General("schema has fewer columns".into()))?;
        match &column.data {
            ColumnData::Int64(v) | ColumnData::Timestamp(v) => {
                write_optional::<Int64Type, _>(out.typed::<Int64Type>(), v, |x| *x)?;
            }
            ColumnData::Float64(v) => {
                write_optional::<DoubleType, _>(out.typed::<DoubleType>(), v, |x| *x)?;
            }
            ColumnData::Bool(v) => {
                write_optional::<BoolType, _>(out.typed::<BoolType>(), v, |x| *x)?;
            }
            ColumnData::Utf8(v) => {
                write_optional::<ByteArrayType, _>(out.typed::<ByteArrayType>(), v, |s| {
                    ByteArray::from(s.as_str())
                })?;
            }
        }
        out.close()?;
    }
    row_group.close()?;
    writer.into_inner()
}

fn field_type(column: &Column) -> Result<Type, ParquetError> {
    let name = column.name.as_str();
    let builder = match &column.data {
        ColumnData::Int64(_) => Type::primitive_type_builder(name, PhysicalType::INT64),
        ColumnData::Float64(_) => Type::primitive_type_builder(name, PhysicalType::DOUBLE),
        ColumnData::Bool(_) => Type::primitive_type_builder(name, PhysicalType::BOOLEAN),
        ColumnData::Utf8(_) => Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
            .with_logical_type(Some(LogicalType::String)),
        ColumnData::Timestamp(_) => Type::primitive_type_builder(name, PhysicalType::INT64)
            .with_logical_type(Some(LogicalType::timestamp(true, TimeUnit::MICROS))),
    };
    builder.with_repetition(Repetition::OPTIONAL).build()
}

fn write_optional<T: DataType, V>(
    writer: &mut parquet::column::writer::ColumnWriterImpl<'_, T>,
    values: &[Option<V>],
    convert: impl Fn(&V) -> T::T,
) -> Result<(), ParquetError> {
    let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
    let present: Vec<T::T> = values.iter().flatten().map(convert).collect();
    writer.write_batch(&present, Some(&defs), None)?;
    Ok(())
}

/// Decodes the bytes of a Parquet file written by [`encode`] (or any flat file of the
/// same five column types) into a table.
pub fn decode(bytes: Vec<u8>) -> Result<Table, ParquetError> {
    let reader = SerializedFileReader::new(Bytes::from(bytes))?;
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let mut columns: Vec<Column> = schema
        .columns()
        .iter()
        .map(|descr| {
            let data = match (descr.physical_type(), descr.logical_type_ref()) {
                (PhysicalType::INT64, Some(LogicalType::Timestamp(_))) => {
                    ColumnData::Timestamp(Vec::new())
                }
                (PhysicalType::INT64, _) => ColumnData::Int64(Vec::new()),
                (PhysicalType::DOUBLE, _) => ColumnData::Float64(Vec::new()),
                (PhysicalType::BOOLEAN, _) => ColumnData::Bool(Vec::new()),
                (PhysicalType::BYTE_ARRAY, _) => ColumnData::Utf8(Vec::new()),
                (other, _) => {
                    return Err(ParquetError::General(format!(
                        "column {} has unsupported type {other}",
                        descr.name()
                    )));
                }
            };
            Ok(Column {
                name: descr.name().to_owned(),
                data,
            })
        })
        .collect::<Result<_, _>>()?;

    for rg in 0..reader.num_row_groups() {
        let row_group = reader.get_row_group(rg)?;
        let rows = usize::try_from(row_group.metadata().num_rows())
            .map_err(|_| ParquetError::General("negative row count".into()))?;
        for (i, column) in columns.iter_mut().enumerate() {
            let raw = row_group.get_column_reader(i)?;
            let max_def = schema.column(i).max_def_level();
            match &mut column.data {
                ColumnData::Int64(v) | ColumnData::Timestamp(v) => {
                    read_optional::<Int64Type, _>(raw, rows, max_def, v, |x| x)?;
                }
                ColumnData::Float64(v) => {
                    read_optional::<DoubleType, _>(raw, rows, max_def, v, |x| x)?
                }
                ColumnData::Bool(v) => read_optional::<BoolType, _>(raw, rows, max_def, v, |x| x)?,
                ColumnData::Utf8(v) => {
                    read_optional::<ByteArrayType, _>(raw, rows, max_def, v, |b| {
                        String::from_utf8_lossy(b.data()).into_owned()
                    })?
                }
            }
        }
    }
    Table::from_columns(columns).map_err(ParquetError::General)
}

fn read_optional<T: DataType, V>(
    raw: ColumnReader,
    rows: usize,
    max_def: i16,
    out: &mut Vec<Option<V>>,
    convert: impl Fn(T::T) -> V,
) -> Result<(), ParquetError>
where
    T::T: Clone,
{
    let mut reader = get_typed_column_reader::<T>(raw);
    let mut defs = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    let mut read = 0;
    while read < rows {
        let (records, _, _) =
            reader.read_records(rows - read, Some(&mut defs), None, &mut values)?;
        if records == 0 {
            return Err(ParquetError::General(format!(
                "column chunk ended after {read} of {rows} rows"
            )));
        }
        read += records;
    }
    if max_def == 0 {
        // A REQUIRED column (from a foreign writer): no levels, every value present.
        out.extend(values.into_iter().map(|v| Some(convert(v))));
        return Ok(());
    }
    let mut present = values.into_iter();
    for def in defs {
        if def == max_def {
            let v = present
                .next()
                .ok_or_else(|| ParquetError::General("fewer values than levels".into()))?;
            out.push(Some(convert(v)));
        } else {
            out.push(None);
        }
    }
    Ok(())
}
